import type { JetStreamClient, NatsConnection, PubAck } from 'nats';
import { EventSigner } from '@acme/transport';
import type { EventClaims } from '@acme/transport';
import { publishSubjectsOf, streamOf } from './event-names';
import { ensureStream } from './event-streams';

const PUBLISH_TIMEOUT_MS = 5_000;

/**
 * Publishes this service's events, signed with its certificate key, and
 * returns only once JetStream has stored them (a publish ack). The event id
 * is the message id, so a retry after a lost ack is stored once.
 *
 * @example
 * const publisher = await EventPublisher.open(connection, 'payment', signer);
 * await publisher.publish({ id, type: 'events.payment.completed', actor }, data);
 */
export class EventPublisher {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly signer: EventSigner,
  ) {}

  static async open(
    connection: NatsConnection,
    service: string,
    signer: EventSigner,
  ): Promise<EventPublisher> {
    const stream = streamOf(service);
    await ensureStream(await connection.jetstreamManager(), stream, [publishSubjectsOf(service)]);
    return new EventPublisher(connection.jetstream(), stream, signer);
  }

  async publish(claims: EventClaims, data: unknown): Promise<PubAck> {
    const jws = this.signer.sign(claims, data);
    return this.js.publish(claims.type, Buffer.from(jws), {
      msgID: claims.id,
      expect: { streamName: this.stream },
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }
}
