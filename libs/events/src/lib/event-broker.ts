import type { NatsConnection } from 'nats';
import { EventSigner, EventVerifier } from '@acme/transport';
import type { SqlRunner } from '@acme/persistence';
import { connectBroker } from './broker.connection';
import type { BrokerOptions } from './broker.connection';
import { EventConsumer } from './event.consumer';
import type { EventDispatch } from './event.consumer';
import { EventPublisher } from './event.publisher';

/**
 * One service's connection to the broker: publishes its events signed with
 * its certificate key, and consumes events, verified against the system CA.
 *
 * @example
 * const broker = await EventBroker.open({ url, service: 'payment', tls, trustDomain });
 * await (await broker.publisher()).publish({ id, type: 'events.payment.completed' }, data);
 */
export class EventBroker {
  private publishing?: Promise<EventPublisher>;
  private readonly consumers: EventConsumer[] = [];

  private constructor(
    readonly connection: NatsConnection,
    private readonly options: BrokerOptions,
    private readonly verifier: EventVerifier,
  ) {}

  static async open(options: BrokerOptions): Promise<EventBroker> {
    const verifier = new EventVerifier(options.tls.ca, options.trustDomain);
    return new EventBroker(await connectBroker(options), options, verifier);
  }

  get service(): string {
    return this.options.service;
  }

  /** This service's publisher; its stream is created on first use, again after a failure. */
  publisher(): Promise<EventPublisher> {
    this.publishing ??= EventPublisher.open(
      this.connection,
      this.options.service,
      new EventSigner(this.options.tls),
    ).catch((error: unknown) => {
      this.publishing = undefined;
      throw error;
    });
    return this.publishing;
  }

  /** Starts this service's durable consumer of `subject`; stopped by {@link close}. */
  consume(subject: string, database: SqlRunner, dispatch: EventDispatch): EventConsumer {
    const consumer = EventConsumer.start({
      connection: this.connection,
      service: this.options.service,
      subject,
      verifier: this.verifier,
      database,
      dispatch,
    });
    this.consumers.push(consumer);
    return consumer;
  }

  /** Stops the consumers (unacknowledged events are delivered again), then drains the connection. */
  async close(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}
