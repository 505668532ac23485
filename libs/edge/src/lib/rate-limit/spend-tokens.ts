import { HttpException, HttpStatus } from '@nestjs/common';
import { httpAuditSubject, writeAuditEvent } from '@acme/auth';
import type { IncomingHttpCall } from '@acme/auth';
import { countRateLimitRejection } from './rate-limit.metrics';
import type { RateLimitStage } from './rate-limit.metrics';
import type {
  StoreFailureMode,
  TokenBucketLimit,
  TokenBucketResult,
  TokenBuckets,
} from './token-buckets';

/**
 * Takes `limit.cost` tokens from the bucket `key`, tells the client what is
 * left (`RateLimit-Limit/-Remaining/-Reset`), and throws 429 with
 * `Retry-After` when the bucket does not hold enough, after writing an
 * `excess_rate_limit_exceeded` audit line and counting it under `stage`.
 * `onStoreFailure` overrides the app's answer to a shared store out of reach.
 * Buckets in memory answer at once, and so does this (no promise per request);
 * buckets in Redis with a promise.
 */
export function spendTokens(
  buckets: TokenBuckets,
  key: string,
  limit: TokenBucketLimit,
  call: IncomingHttpCall,
  stage: RateLimitStage,
  onStoreFailure?: StoreFailureMode,
): void | Promise<void> {
  const taken = buckets.take(key, limit, onStoreFailure);
  if (taken instanceof Promise) {
    return taken.then((result) => charge(result, key, limit, call, stage));
  }
  charge(taken, key, limit, call, stage);
}

function charge(
  taken: TokenBucketResult,
  key: string,
  limit: TokenBucketLimit,
  { request, reply }: IncomingHttpCall,
  stage: RateLimitStage,
): void {
  reply.header('RateLimit-Limit', limit.burstCapacity);
  reply.header('RateLimit-Remaining', Math.floor(taken.remaining));
  reply.header('RateLimit-Reset', Math.ceil(taken.resetMs / 1000));
  if (taken.allowed) return;
  countRateLimitRejection(request, stage);
  const retryAfter = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
  reply.header('Retry-After', retryAfter);
  writeAuditEvent({
    event: 'excess_rate_limit_exceeded',
    ...httpAuditSubject(request),
    reason: `bucket ${key} is empty`,
  });
  throw new HttpException(
    {
      statusCode: 429,
      error: 'Too Many Requests',
      message: `rate limit exceeded, retry in ${retryAfter} s`,
    },
    HttpStatus.TOO_MANY_REQUESTS,
  );
}

/** A guard's answer once `spent`: at once when the buckets answered at once. */
export function admitted(spent: void | Promise<void>): boolean | Promise<boolean> {
  return spent instanceof Promise ? spent.then(() => true) : true;
}
