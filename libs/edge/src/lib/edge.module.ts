import { Inject, Module } from '@nestjs/common';
import type {
  DynamicModule,
  InjectionToken,
  OnApplicationShutdown,
  OnModuleInit,
  Type,
} from '@nestjs/common';
import { APP_GUARD, DiscoveryModule, DiscoveryService, ModuleRef } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { EDGE_OPTIONS } from './edge.options';
import type { EdgeOptions } from './edge.options';
import { IpAllowGuard } from './ip/ip-allow.guard';
import { AddressRateLimitGuard } from './rate-limit/address-rate-limit.guard';
import { FallbackTokenBuckets } from './rate-limit/fallback-token-buckets';
import { CallerRateLimitGuard } from './rate-limit/caller-rate-limit.guard';
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
/** Provided by {@link CallerRateLimitModule} alone: proves the app imported it. */
const CALLER_RATE_LIMIT = Symbol('EDGE_CALLER_RATE_LIMIT');

/** The budget of each verified caller: a guard, after the auth guards. */
@Module({})
class CallerRateLimitModule {}

/**
 * The per-route policy of a public HTTP edge: `@IpAllow(list)` and rate limits
 * (token buckets per client address, then per caller, in Redis when
 * configured). Global guards run in import order, so it comes in two imports:
 * `forRootAsync` before `AuthModule`, so that a refused address, or one that
 * spent its budget, is refused before any token is looked at; and
 * `callerRateLimit()` after it, since a caller's budget needs the verified caller.
 * Guards, not interceptors: with any interceptor at all, Nest pipes every
 * request through RxJS, about 100 us of CPU on node 20 (docs/BENCHMARKS.md).
 *
 * @example
 * imports: [
 *   EdgeModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => edgeOptionsFrom(config) }),
 *   AuthModule.forRootAsync({ ... }),
 *   EdgeModule.callerRateLimit(),
 * ]
 */
@Module({})
export class EdgeModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    @Inject(EDGE_OPTIONS) private readonly options: EdgeOptions,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  static forRootAsync(options: EdgeModuleAsyncOptions): DynamicModule {
    return {
      module: EdgeModule,
      // Its options and buckets serve the caller budget of callerRateLimit() too.
      global: true,
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
      ],
      exports: [EDGE_OPTIONS, TOKEN_BUCKETS],
    };
  }

  /** Each verified caller's budget; import it after `AuthModule`. */
  static callerRateLimit(): DynamicModule {
    return {
      module: CallerRateLimitModule,
      providers: [
        { provide: APP_GUARD, useClass: CallerRateLimitGuard },
        { provide: CALLER_RATE_LIMIT, useValue: true },
      ],
    };
  }

  /**
   * A misnamed IP list, an impossible cost, or no caller budget at all stops the
   * start-up, not the first request.
   */
  onModuleInit(): void {
    if (!this.hasCallerRateLimit()) {
      throw new Error(
        'EdgeModule: callers have no rate limit; import EdgeModule.callerRateLimit() after AuthModule',
      );
    }
    const controllers = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype)
      .filter((type): type is Type<unknown> => typeof type === 'function');
    const problems = routeRuleProblems(controllers, this.options);
    if (problems.length > 0) throw new Error(`Invalid edge rules:\n  ${problems.join('\n  ')}`);
  }

  private hasCallerRateLimit(): boolean {
    try {
      return this.moduleRef.get<boolean>(CALLER_RATE_LIMIT, { strict: false });
    } catch {
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
