/** One bucket's rule: `replenishRate` tokens a second, at most `burstCapacity`, `cost` per request. */
export interface TokenBucketLimit {
  replenishRate: number;
  burstCapacity: number;
  cost: number;
}

export interface TokenBucketResult {
  allowed: boolean;
  /** Tokens left after this request (fractional: the bucket refills continuously). */
  remaining: number;
  /** Until a request of this cost would pass; 0 when this one did. */
  retryAfterMs: number;
  /** Until the bucket is full again. */
  resetMs: number;
}

/** What the rate limiter does while its shared store (Redis) cannot be reached. */
export type StoreFailureMode = 'local' | 'reject';

/**
 * Where buckets live: process memory, which answers at once, or Redis shared by every
 * replica, which answers with a promise.
 */
export interface TokenBuckets {
  /** `onStoreFailure`: this call's own answer to a shared store out of reach, if any. */
  take(
    key: string,
    limit: TokenBucketLimit,
    onStoreFailure?: StoreFailureMode,
  ): TokenBucketResult | Promise<TokenBucketResult>;
}

/** The DI token of the app's one `TokenBuckets`, shared by both rate limits. */
export const TOKEN_BUCKETS = Symbol('TOKEN_BUCKETS');

export interface BucketState {
  tokens: number;
  /** When `tokens` was computed, in ms. */
  at: number;
}

/**
 * The token bucket itself: refill for the time elapsed, then take `cost` if
 * there is that much. A missing bucket is a full one. `redis-token-buckets.ts`
 * runs the same arithmetic in Lua.
 */
export function takeTokens(
  state: BucketState | undefined,
  now: number,
  limit: TokenBucketLimit,
): { state: BucketState; result: TokenBucketResult } {
  const { replenishRate, burstCapacity, cost } = limit;
  const elapsed = Math.max(0, now - (state?.at ?? now));
  let tokens = Math.min(
    burstCapacity,
    (state?.tokens ?? burstCapacity) + (elapsed * replenishRate) / 1000,
  );
  const allowed = tokens >= cost;
  if (allowed) tokens -= cost;
  return { state: { tokens, at: now }, result: resultOf(allowed, tokens, limit) };
}

export function resultOf(
  allowed: boolean,
  tokens: number,
  limit: TokenBucketLimit,
): TokenBucketResult {
  const msFor = (missing: number) => Math.max(0, Math.ceil((missing * 1000) / limit.replenishRate));
  return {
    allowed,
    remaining: tokens,
    retryAfterMs: allowed ? 0 : msFor(limit.cost - tokens),
    resetMs: msFor(limit.burstCapacity - tokens),
  };
}

/**
 * Buckets in process memory: one budget per replica. A bucket that has refilled
 * completely is forgotten, so memory holds only the clients of the last few seconds.
 */
export class MemoryTokenBuckets implements TokenBuckets {
  private readonly buckets = new Map<string, BucketState & { fullAt: number }>();
  private sweptAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  take(key: string, limit: TokenBucketLimit): TokenBucketResult {
    const now = this.now();
    this.sweep(now);
    const { state, result } = takeTokens(this.buckets.get(key), now, limit);
    if (result.resetMs > 0) {
      // Written out, not `{ ...state, fullAt }`: on node 20 that spread takes V8's slow path.
      this.buckets.set(key, { tokens: state.tokens, at: state.at, fullAt: now + result.resetMs });
    } else {
      this.buckets.delete(key);
    }
    return result;
  }

  /** Buckets tracked right now. */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 1000) return;
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
  }
}
