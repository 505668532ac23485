import { Inject, Module } from '@nestjs/common';
import type {
  DynamicModule,
  InjectionToken,
  OnApplicationShutdown,
  OnModuleInit,
  Type,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule, DiscoveryService } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { EDGE_OPTIONS } from './edge.options';
import type { EdgeOptions } from './edge.options';
import { IpAllowGuard } from './ip/ip-allow.guard';
import { AddressRateLimitGuard } from './rate-limit/address-rate-limit.guard';
import { FallbackTokenBuckets } from './rate-limit/fallback-token-buckets';
import { RateLimitInterceptor } from './rate-limit/rate-limit.interceptor';
import { createRedisClient } from './rate-limit/redis-client';
import { RedisTokenBuckets } from './rate-limit/redis-token-buckets';
import { MemoryTokenBuckets, TOKEN_BUCKETS } from './rate-limit/token-buckets';
import { routeRuleProblems } from './route-rules';

export interface EdgeModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  inject?: InjectionToken[];
  useFactory: (...args: never[]) => EdgeOptions;
}

const REDIS = Symbol('EDGE_REDIS');

/**
 * The per-route policy of a public HTTP edge: `@IpAllow(list)` and rate limits
 * (token buckets per client address, then per caller, in Redis when
 * configured). Import it before `AuthModule`: global guards run in import
 * order, so a refused address, or one that spent its budget, is refused before
 * any token is looked at.
 *
 * @example
 * EdgeModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => edgeOptionsFrom(config) })
 */
@Module({})
export class EdgeModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(EDGE_OPTIONS) private readonly options: EdgeOptions,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  static forRootAsync(options: EdgeModuleAsyncOptions): DynamicModule {
    return {
      module: EdgeModule,
      imports: [...(options.imports ?? []), DiscoveryModule],
      providers: [
        { provide: EDGE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        {
          provide: REDIS,
          inject: [EDGE_OPTIONS],
          useFactory: (edge: EdgeOptions) =>
            edge.rateLimit.redis ? createRedisClient(edge.rateLimit.redis) : null,
        },
        {
          provide: TOKEN_BUCKETS,
          inject: [EDGE_OPTIONS, REDIS],
          useFactory: (edge: EdgeOptions, redis: Redis | null) =>
            redis
              ? new FallbackTokenBuckets(
                  new RedisTokenBuckets(redis),
                  edge.rateLimit.onStoreFailure,
                  new MemoryTokenBuckets(),
                )
              : new MemoryTokenBuckets(),
        },
        // In this order, and before AuthModule's: a refused address, then a spent address
        // budget, are refused before any token is verified.
        { provide: APP_GUARD, useClass: IpAllowGuard },
        { provide: APP_GUARD, useClass: AddressRateLimitGuard },
        { provide: APP_INTERCEPTOR, useClass: RateLimitInterceptor },
      ],
    };
  }

  /** A misnamed IP list or an impossible cost stops the start-up, not the first request. */
  onModuleInit(): void {
    const controllers = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype)
      .filter((type): type is Type<unknown> => typeof type === 'function');
    const problems = routeRuleProblems(controllers, this.options);
    if (problems.length > 0) throw new Error(`Invalid edge rules:\n  ${problems.join('\n  ')}`);
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
