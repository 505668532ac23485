import { HttpException, HttpStatus } from '@nestjs/common';
import { httpAuditSubject, writeAuditEvent } from '@acme/auth';
import type { IncomingHttpCall } from '@acme/auth';
import { countRateLimitRejection } from './rate-limit.metrics';
import type { RateLimitStage } from './rate-limit.metrics';
import type { StoreFailureMode, TokenBucketLimit, TokenBuckets } from './token-buckets';

/**
 * Takes `limit.cost` tokens from the bucket `key`, tells the client what is
 * left (`RateLimit-Limit/-Remaining/-Reset`), and throws 429 with
 * `Retry-After` when the bucket does not hold enough, after writing an
 * `excess_rate_limit_exceeded` audit line and counting it under `stage`.
 * `onStoreFailure` overrides the app's answer to a shared store out of reach.
 */
export async function spendTokens(
  buckets: TokenBuckets,
  key: string,
  limit: TokenBucketLimit,
  { request, reply }: IncomingHttpCall,
  stage: RateLimitStage,
  onStoreFailure?: StoreFailureMode,
): Promise<void> {
  const taken = await buckets.take(key, limit, onStoreFailure);
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
