import { applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { StoreFailureMode } from './rate-limit/token-buckets';

export interface RateLimitOptions {
  /** Tokens per second; with `burstCapacity`, gives the route a budget of its own. */
  replenishRate?: number;
  /** Bucket size; with `replenishRate`, gives the route a budget of its own. */
  burstCapacity?: number;
  /** Tokens one request takes (default 1), from whichever budget applies. */
  cost?: number;
  /**
   * While Redis is out of reach, this route's answer instead of RATE_LIMIT_ON_REDIS_ERROR's,
   * for the address budget and the caller's: `local` keeps it limited by each replica's own
   * buckets where the rest of the app refuses with 503. Health probes take it, so that a
   * Redis outage never fails liveness (and restarts every gateway).
   */
  onStoreFailure?: StoreFailureMode;
}

export const RateLimitMetadata = Reflector.createDecorator<RateLimitOptions>({
  key: 'edge:rate-limit',
});
export const IpAllowMetadata = Reflector.createDecorator<string>({ key: 'edge:ip-allow' });

/**
 * Overrides the rate limit of a route or controller. Without a rate or
 * capacity of its own the route spends from the caller's default budget.
 *
 * @example
 * @RateLimit({ replenishRate: 1, burstCapacity: 5 }) // its own, smaller budget
 * @RateLimit({ cost: 5 })                            // 5 tokens of the default budget
 * @RateLimit({ onStoreFailure: 'local' })            // limited per replica while Redis is away
 */
export function RateLimit(options: RateLimitOptions): MethodDecorator & ClassDecorator {
  const { replenishRate, burstCapacity, cost, onStoreFailure } = options;
  const problems = [
    replenishRate !== undefined &&
      !(replenishRate > 0 && Number.isFinite(replenishRate)) &&
      'replenishRate must be > 0',
    burstCapacity !== undefined &&
      !(Number.isInteger(burstCapacity) && burstCapacity >= 1) &&
      'burstCapacity must be an integer >= 1',
    cost !== undefined && !(Number.isInteger(cost) && cost >= 1) && 'cost must be an integer >= 1',
    cost !== undefined &&
      burstCapacity !== undefined &&
      cost > burstCapacity &&
      'cost must not exceed burstCapacity',
    onStoreFailure !== undefined &&
      onStoreFailure !== 'local' &&
      onStoreFailure !== 'reject' &&
      "onStoreFailure must be 'local' or 'reject'",
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`@RateLimit: ${problems.join('; ')}`);
  return applyDecorators(RateLimitMetadata(options));
}

/**
 * Admits a route only from the CIDR list of that name in the configuration
 * (`IP_ALLOW_LISTS`); an unknown name stops the app at start-up.
 *
 * @example
 * @IpAllow('admin')
 * @Controller('admin/orders') export class AdminOrdersController {}
 */
export function IpAllow(list: string): MethodDecorator & ClassDecorator {
  return applyDecorators(IpAllowMetadata(list));
}
