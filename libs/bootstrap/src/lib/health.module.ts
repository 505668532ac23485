import { applyDecorators, Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MessagePattern } from '@nestjs/microservices';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
} from '@nestjs/terminus';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import {
  AllowServices,
  HttpSenderConstraint,
  InjectServiceClient,
  JwksCache,
  Public,
  ServiceClientsModule,
  withoutCallContext,
} from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { RateLimit } from '@acme/edge';
import { HEALTH_PATTERN } from '@acme/contracts';
import { serviceClientsFrom } from './config/service-calls.env';

/** Paths of the HTTP probes and of the dependency report, outside any global prefix. */
export const HEALTH_ROUTES = {
  liveness: 'healthz',
  readiness: 'readyz',
  dependencies: 'healthz/dependencies',
} as const;

/** What a service answers to `HEALTH_PATTERN`: it is up, and so (or not) is each service it depends on. */
export interface HealthAnswer {
  status: 'ok';
  /** Every service it calls, directly or through another, by name. */
  dependencies: HealthIndicatorResult;
}

/** Pings the services this one calls, and merges what they report of theirs. */
class DependencyPings {
  private readonly clients: ServiceClient[];

  constructor(...clients: ServiceClient[]) {
    this.clients = clients;
  }

  async check(): Promise<HealthIndicatorResult> {
    const states = await Promise.all(
      this.clients.map(async (client): Promise<HealthIndicatorResult> => {
        try {
          // A ping is public: it carries no token, so none of the health request's is exchanged.
          const answer = await withoutCallContext(() =>
            client.send<HealthAnswer>(HEALTH_PATTERN, {}),
          );
          return { [client.service]: { status: 'up' }, ...answer.dependencies };
        } catch (error) {
          return { [client.service]: { status: 'down', message: (error as Error).message } };
        }
      }),
    );
    return Object.assign({}, ...states) as HealthIndicatorResult;
  }
}

export interface HealthModuleOptions {
  /**
   * Services this one calls, pinged on every check over their own connection,
   * at `<NAME>_ADDRESS` of the configuration (as the service clients use).
   */
  dependencies?: readonly string[];
  /**
   * HTTP only: who may read `GET /healthz/dependencies`, the state of every
   * dependency (with error messages). Without it there is no such route. It is
   * `@Public()` (no token), so give it a network rule, e.g. `IpAllow('admin')`.
   */
  dependencyReportAccess?: MethodDecorator;
}

/**
 * Health checks with @nestjs/terminus. Over HTTP, `GET /healthz` (liveness:
 * the process serves), `GET /readyz` (readiness: the issuer's keys are cached
 * or reachable, and the DPoP replay cache, when kept in Redis, has answered
 * since start-up: all it needs to serve anything) and, where the app says who
 * may read it, `GET /healthz/dependencies` (every dependency answers its
 * ping). Readiness leaves dependencies, and later Redis outages, out on
 * purpose: one of them down would otherwise take every replica out of
 * rotation, and the whole API would answer 503 where only the calls that need
 * it should fail.
 * Over the transport, a `HEALTH_PATTERN` handler that answers with its
 * dependencies.
 *
 * @example
 * HealthModule.forHttp({ dependencies: ['order'], dependencyReportAccess: IpAllow('admin') }) // gateway
 * HealthModule.forMicroservice({ service: 'order', callers: ['gateway'], dependencies: ['payment'] })
 */
@Module({})
export class HealthModule {
  static forHttp(options: HealthModuleOptions = {}): DynamicModule {
    const pings = pingsOf(options.dependencies ?? []);

    @Controller()
    // Public: probes come from the orchestrator, without a token, and learn only up or down;
    // the dependency report is public too, but only from where dependencyReportAccess admits.
    @Public()
    // Limited like any route, but never refused for a Redis outage: liveness failing then
    // would restart every replica, and restarts cannot bring Redis back.
    @RateLimit({ onStoreFailure: 'local' })
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly indicators: HealthIndicatorService,
        private readonly jwks: JwksCache,
        private readonly senderConstraint: HttpSenderConstraint,
        @Inject(pings) private readonly dependencies: DependencyPings,
      ) {}

      @Get(HEALTH_ROUTES.liveness)
      @HealthCheck()
      liveness() {
        return this.health.check([]);
      }

      @Get(HEALTH_ROUTES.readiness)
      @HealthCheck()
      readiness() {
        return this.health.check([() => this.issuer(), () => this.replayCache()]);
      }

      @HealthCheck()
      dependencyReport() {
        return this.health.check([() => this.dependencies.check()]);
      }

      private async issuer(): Promise<HealthIndicatorResult> {
        if (this.jwks.size === 0) await this.jwks.refresh();
        const issuer = this.indicators.check('issuer');
        return this.jwks.size > 0
          ? issuer.up({ keys: this.jwks.size })
          : issuer.down('signing keys neither cached nor reachable');
      }

      /** DPoP proofs remembered in Redis: none can be checked (fail closed) before it answers. */
      private async replayCache(): Promise<HealthIndicatorResult> {
        const ready = this.senderConstraint.replayCacheReady();
        if (!ready) return {};
        const cache = this.indicators.check('dpopReplayCache');
        return (await ready) ? cache.up() : cache.down('has not answered since start-up');
      }
    }

    const access = options.dependencyReportAccess;
    if (access) {
      const prototype = HealthController.prototype;
      const descriptor = Object.getOwnPropertyDescriptor(prototype, 'dependencyReport');
      if (descriptor) {
        applyDecorators(Get(HEALTH_ROUTES.dependencies), access)(
          prototype,
          'dependencyReport',
          descriptor,
        );
      }
    }
    return healthModule(options, pings, HealthController);
  }

  /**
   * @param options.service this service: its own container health check sends the ping with its own certificate.
   * @param options.callers the services that may ping it.
   */
  static forMicroservice(
    options: HealthModuleOptions & { service: string; callers: readonly string[] },
  ): DynamicModule {
    const pings = pingsOf(options.dependencies ?? []);

    @Controller()
    class HealthController {
      constructor(@Inject(pings) private readonly dependencies: DependencyPings) {}

      /** Public: a ping carries no token; the mutual-TLS peer must still be an allowed service. */
      @MessagePattern(HEALTH_PATTERN)
      @Public()
      @AllowServices(...options.callers, options.service)
      async ping(): Promise<HealthAnswer> {
        return { status: 'ok', dependencies: await this.dependencies.check() };
      }
    }

    return healthModule(options, pings, HealthController);
  }
}

/** A DependencyPings provider whose constructor takes the service client of each dependency. */
function pingsOf(dependencies: readonly string[]): Type<DependencyPings> {
  @Injectable()
  class Pings extends DependencyPings {}
  dependencies.forEach((service, index) => InjectServiceClient(service)(Pings, undefined, index));
  return Pings;
}

function healthModule(
  options: HealthModuleOptions,
  pings: Type<DependencyPings>,
  controller: Type<unknown>,
): DynamicModule {
  const dependencies = options.dependencies ?? [];
  return {
    module: HealthModule,
    imports: [
      TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ...(dependencies.length > 0
        ? [
            ServiceClientsModule.registerAsync({
              services: dependencies,
              inject: [ConfigService],
              // Every caller's schema has the keys of serviceEnv() and callerEnv(), and each callee's.
              useFactory: (config: ConfigService) =>
                serviceClientsFrom(
                  config as unknown as Parameters<typeof serviceClientsFrom>[0],
                  dependencies,
                ),
            }),
          ]
        : []),
    ],
    controllers: [controller],
    providers: [pings],
  };
}
