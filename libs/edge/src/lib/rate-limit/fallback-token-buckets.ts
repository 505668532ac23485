import { Logger, ServiceUnavailableException } from '@nestjs/common';
import type {
  StoreFailureMode,
  TokenBucketLimit,
  TokenBucketResult,
  TokenBuckets,
} from './token-buckets';

/**
 * The shared buckets, and what to do when they fail: `local` keeps limiting
 * with this replica's own buckets (each replica then allows the full budget:
 * fail open, but never unlimited); `reject` answers 503 (fail closed). Every
 * call tries the shared store first, so it takes over again as soon as it
 * answers: no restart, no probe. A call may bring its own mode (a route's
 * `@RateLimit({ onStoreFailure })`).
 */
export class FallbackTokenBuckets implements TokenBuckets {
  private readonly log = new Logger('RateLimit');
  private degraded = false;

  constructor(
    private readonly shared: TokenBuckets,
    private readonly mode: StoreFailureMode,
    private readonly local: TokenBuckets,
  ) {}

  async take(
    key: string,
    limit: TokenBucketLimit,
    onStoreFailure = this.mode,
  ): Promise<TokenBucketResult> {
    let result: TokenBucketResult;
    try {
      result = await this.shared.take(key, limit);
    } catch (error) {
      if (!this.degraded) {
        this.degraded = true;
        const then = this.mode === 'local' ? 'limiting per replica' : 'refusing requests (503)';
        this.log.error(
          `rate-limit store unavailable, ${then} until it is back (but on routes with an onStoreFailure of their own): ${(error as Error).message}`,
        );
      }
      if (onStoreFailure === 'reject') {
        throw new ServiceUnavailableException('rate limiting is unavailable');
      }
      return this.local.take(key, limit);
    }
    if (this.degraded) {
      this.degraded = false;
      this.log.log('rate-limit store reachable again, budgets are shared again');
    }
    return result;
  }
}
