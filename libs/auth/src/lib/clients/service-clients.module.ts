import { Inject, Module } from '@nestjs/common';
import type {
  DynamicModule,
  FactoryProvider,
  InjectionToken,
  OnApplicationShutdown,
} from '@nestjs/common';
import { createMtlsClient } from '@acme/transport';
import type { TransportSecurity } from '@acme/transport';
import { ServiceTokenProvider } from '../token/service-token.provider';
import type { ServiceCredentials } from '../token/service-token.provider';
import { TokenExchanger } from '../token/token-exchanger';
import { ServiceClient } from './service-client';
import type { ResilienceOptions } from './service-client';

export interface ServiceClientsOptions {
  /** Mutual TLS with this service's certificate, or by the mesh's sidecars. */
  security: TransportSecurity;
  maxFrameSize: number;
  timeoutMs: number;
  /** Where each service listens. */
  addresses: Record<string, { host: string; port: number }>;
  /** The audience each service accepts. */
  audiences: Record<string, string>;
  /**
   * How `send` acts for the caller: `exchange` their token for one with the
   * callee's audience (RFC 8693, needs `credentials`), or `forward` it as it
   * is, for issuers without token exchange.
   */
  delegation: 'exchange' | 'forward';
  resilience?: ResilienceOptions;
  /** This service's OAuth client, for token exchange and `sendAsService`. */
  credentials?: ServiceCredentials;
}

interface ServiceTokens {
  serviceTokens?: ServiceTokenProvider;
  exchanger?: TokenExchanger;
}

export interface ServiceClientsAsyncOptions {
  /** The services this app calls; each gets an injectable {@link ServiceClient}. */
  services: readonly string[];
  imports?: DynamicModule['imports'];
  inject?: InjectionToken[];
  useFactory: (...args: never[]) => ServiceClientsOptions;
}

const SERVICE_CLIENTS_OPTIONS = Symbol('SERVICE_CLIENTS_OPTIONS');
const SERVICE_TOKENS = Symbol('SERVICE_TOKENS');

export function serviceClientToken(service: string): string {
  return `ServiceClient:${service}`;
}

/**
 * Injects the {@link ServiceClient} of a service registered with {@link ServiceClientsModule}.
 *
 * @example
 * constructor(@InjectServiceClient('payment') private readonly payment: ServiceClient) {}
 */
export const InjectServiceClient = (service: string) => Inject(serviceClientToken(service));

/**
 * Registers one mutual-TLS client per called service.
 *
 * @example
 * ServiceClientsModule.registerAsync({ services: ['payment'], inject: [ConfigService], useFactory: (config) => ({...}) })
 */
@Module({})
export class ServiceClientsModule {
  static registerAsync(options: ServiceClientsAsyncOptions): DynamicModule {
    const clientProviders = options.services.map(
      (service): FactoryProvider<ServiceClient> => ({
        provide: serviceClientToken(service),
        inject: [SERVICE_CLIENTS_OPTIONS, SERVICE_TOKENS],
        useFactory: (config: ServiceClientsOptions, tokens: ServiceTokens) => {
          const address = config.addresses[service];
          if (!address) throw new Error(`no address configured for service ${service}`);
          const audience = config.audiences[service];
          if (!audience) throw new Error(`no audience configured for service ${service}`);
          const proxy = createMtlsClient({
            ...address,
            service,
            security: config.security,
            maxFrameSize: config.maxFrameSize,
          });
          return new ServiceClient(
            service,
            proxy,
            config.timeoutMs,
            { audience, ...tokens },
            config.resilience,
          );
        },
      }),
    );
    return {
      module: ServiceClientsModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: SERVICE_CLIENTS_OPTIONS,
          inject: options.inject ?? [],
          useFactory: options.useFactory,
        },
        {
          provide: SERVICE_TOKENS,
          inject: [SERVICE_CLIENTS_OPTIONS],
          useFactory: ({ credentials, delegation }: ServiceClientsOptions): ServiceTokens => {
            if (delegation === 'exchange' && !credentials) {
              throw new Error('token exchange needs the OAuth client credentials of this service');
            }
            return {
              serviceTokens:
                credentials?.scope === undefined
                  ? undefined
                  : new ServiceTokenProvider(credentials),
              exchanger:
                credentials && delegation === 'exchange'
                  ? new TokenExchanger(credentials)
                  : undefined,
            };
          },
        },
        ...clientProviders,
        {
          provide: ServiceClientsShutdown,
          inject: clientProviders.map((provider) => provider.provide),
          useFactory: (...clients: ServiceClient[]) => new ServiceClientsShutdown(clients),
        },
      ],
      exports: clientProviders.map((provider) => provider.provide),
    };
  }
}

class ServiceClientsShutdown implements OnApplicationShutdown {
  constructor(private readonly clients: ServiceClient[]) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }
}
