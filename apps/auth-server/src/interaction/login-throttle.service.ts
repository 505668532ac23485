import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { AuthServerConfig } from '../config';
import { REDIS_CLIENT } from '../redis/redis.constants';

/**
 * Counts failed sign-ins per user name and IP address. After LOGIN_MAX_FAILURES failures within
 * LOGIN_LOCK_SECONDS the pair is locked until that window ends, right password or not. Kept in Redis
 * when there is one, so every replica sees the same count.
 */
@Injectable()
export class LoginThrottleService {
  private readonly failures: RateLimiterAbstract;
  private readonly maxFailures: number;

  constructor(
    config: ConfigService<AuthServerConfig, true>,
    @Inject(REDIS_CLIENT) redis: Redis | null,
  ) {
    this.maxFailures = config.get('loginMaxFailures', { infer: true });
    const options = {
      keyPrefix: 'login-failures',
      points: this.maxFailures,
      duration: config.get('loginLockSeconds', { infer: true }),
    };
    this.failures = redis
      ? new RateLimiterRedis({ ...options, storeClient: redis })
      : new RateLimiterMemory(options);
  }

  /** Seconds until `key` may try again; 0 when it is not locked. */
  async lockedFor(key: string): Promise<number> {
    const state = await this.failures.get(key);
    return state && state.consumedPoints >= this.maxFailures
      ? Math.ceil(state.msBeforeNext / 1000)
      : 0;
  }

  async recordFailure(key: string): Promise<void> {
    await this.failures.penalty(key);
  }

  async reset(key: string): Promise<void> {
    await this.failures.delete(key);
  }
}
