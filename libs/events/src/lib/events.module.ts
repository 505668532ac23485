import { Inject, Module } from '@nestjs/common';
import type { DynamicModule, InjectionToken, OnApplicationShutdown } from '@nestjs/common';
import type { BrokerOptions } from './broker.connection';
import { EventBroker } from './event-broker';

/** DI token of this service's {@link EventBroker}, or `null` when no broker is configured. */
export const EVENT_BROKER = Symbol('EVENT_BROKER');

export interface EventsModuleAsyncOptions {
  inject?: InjectionToken[];
  /** The broker to use, or undefined for none (events then go the direct way). */
  useFactory: (...args: never[]) => BrokerOptions | undefined;
}

/**
 * Connects this service to the broker when one is configured, and closes the
 * connection on shutdown. Without one, `EVENT_BROKER` is `null`.
 *
 * @example
 * EventsModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => brokerOptionsFrom(config, 'payment') })
 */
@Module({})
export class EventsModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_BROKER) private readonly broker: EventBroker | null) {}

  static forRootAsync(options: EventsModuleAsyncOptions): DynamicModule {
    return {
      module: EventsModule,
      global: true,
      providers: [
        {
          provide: EVENT_BROKER,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => {
            const broker = options.useFactory(...args);
            return broker ? EventBroker.open(broker) : null;
          },
        },
      ],
      exports: [EVENT_BROKER],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker?.close();
  }
}
