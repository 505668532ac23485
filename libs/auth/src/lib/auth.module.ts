import { Inject, Logger, Module } from '@nestjs/common';
import type {
  CanActivate,
  DynamicModule,
  InjectionToken,
  OnApplicationBootstrap,
  Provider,
  Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AUTH_OPTIONS } from './auth.options';
import type { AuthOptions } from './auth.options';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { PolicyGuard } from './guards/policy.guard';
import { RolesGuard } from './guards/roles.guard';
import { ScopesGuard } from './guards/scopes.guard';
import { ServiceIdentityGuard } from './guards/service-identity.guard';
import { HttpSenderConstraint } from './http/http-sender-constraint';
import { JwtStrategy } from './http/jwt.strategy';
import { AccessTokenVerifier } from './token/access-token.verifier';
import { JwksCache } from './token/jwks.cache';

/** In this order: who is calling (mTLS peer), with which token, then what it may do. */
const GLOBAL_GUARDS: Type<CanActivate>[] = [
  ServiceIdentityGuard,
  JwtAuthGuard,
  RolesGuard,
  ScopesGuard,
  PolicyGuard,
];

/**
 * Registers a guard globally, except in a benchmark without security: a
 * factory that returns nothing registers nothing, so that run pays for none of it.
 */
function globally(guard: Type<CanActivate>): Provider {
  return {
    provide: APP_GUARD,
    inject: [AUTH_OPTIONS, guard],
    useFactory: (auth: AuthOptions, instance: unknown) =>
      auth.benchmarkInsecure ? undefined : instance,
  };
}

export interface AuthModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  inject?: InjectionToken[];
  useFactory: (...args: never[]) => AuthOptions;
}

/**
 * Deny by default, for HTTP and RPC alike: installs the global guards (service
 * identity, token, roles, scopes, policy, in that order). The caller's token reaches
 * {@link ServiceClient} through the call context: set per message by the transports,
 * and per HTTP request by `runRoutesInCallContext` (`createHttpApp` installs it).
 *
 * @example
 * AuthModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => authOptionsFrom(config) })
 */
@Module({})
export class AuthModule implements OnApplicationBootstrap {
  constructor(
    @Inject(JwksCache) private readonly jwks: JwksCache,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {}

  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: AUTH_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        {
          provide: JwksCache,
          inject: [AUTH_OPTIONS],
          useFactory: (auth: AuthOptions) =>
            new JwksCache({
              issuer: auth.issuer,
              cooldownMs: auth.jwksCooldownMs,
              maxAgeMs: auth.jwksMaxAgeMs,
              timeoutMs: auth.issuerTimeoutMs,
            }),
        },
        {
          provide: AccessTokenVerifier,
          inject: [AUTH_OPTIONS, JwksCache],
          useFactory: (auth: AuthOptions, jwks: JwksCache) => new AccessTokenVerifier(auth, jwks),
        },
        HttpSenderConstraint,
        JwtStrategy,
        ...GLOBAL_GUARDS,
        ...GLOBAL_GUARDS.map(globally),
      ],
      exports: [AUTH_OPTIONS, AccessTokenVerifier, JwksCache, HttpSenderConstraint],
    };
  }

  /** Fetch the issuer's keys early, without blocking start-up: the issuer may start after us. */
  onApplicationBootstrap(): void {
    if (this.options.benchmarkInsecure) {
      new Logger(AuthModule.name).warn(
        'BENCH_INSECURE: NO AUTHENTICATION, NO AUTHORIZATION. Every request is served to anyone. Benchmark only.',
      );
    } else if (this.options.peerIdentity === 'mesh') {
      new Logger(AuthModule.name).log(
        'calling services are authenticated and authorized by the service mesh (TRANSPORT_SECURITY=mesh); tokens are still verified here',
      );
    }
    void this.jwks.refresh();
  }
}
