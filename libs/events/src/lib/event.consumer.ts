import { Logger } from '@nestjs/common';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { EventRejectedError } from '@acme/transport';
import type { EventVerifier, VerifiedEvent } from '@acme/transport';
import type { SqlRunner } from '@acme/persistence';
import {
  deadLetterStreamOf,
  deadLetterSubjectOf,
  durableOf,
  producerOf,
  streamOf,
} from './event-names';
import { ensureStream } from './event-streams';
import { nats } from './nats-client';

/** Hands a verified event to its handler; throws {@link EventRefusedError} when retrying cannot help. */
export type EventDispatch = (event: VerifiedEvent) => Promise<void>;

/** The handler refused the event for good (not allowed, conflicting): it goes to the dead letters. */
export class EventRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = EventRefusedError.name;
  }
}

export interface EventConsumerOptions {
  connection: NatsConnection;
  /** The consuming service. */
  service: string;
  /** The event subject, `events.<producer>.<event>`. */
  subject: string;
  verifier: EventVerifier;
  /** The consumer's database, where `processed_events` lives. */
  database: SqlRunner;
  dispatch: EventDispatch;
  /** Deliveries of one event before it goes to the dead letters. */
  maxDeliveries?: number;
  /** How long the broker waits for an ack before it delivers again. */
  ackWaitMs?: number;
}

/** The dead letter's headers: why, and where the event came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'Acme-Dead-Letter-Reason',
  detail: 'Acme-Dead-Letter-Detail',
  subject: 'Acme-Original-Subject',
  sequence: 'Acme-Original-Sequence',
} as const;

const DEFAULT_MAX_DELIVERIES = 5;
const DEFAULT_ACK_WAIT_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const RETRY_START_MS = 500;
const MAX_SETUP_WAIT_MS = 5_000;

/**
 * A durable JetStream consumer of one event for one service. Each event is
 * verified (signature, producer, lifetime, subject), skipped if its id was
 * processed already, handed to its handler, recorded in `processed_events`
 * and only then acknowledged: a crash anywhere before the ack means the
 * broker delivers it again, and the record makes that harmless. An event
 * that fails verification or that its handler refuses, or that still fails
 * after `maxDeliveries`, is copied to `deadletter.<service>.<subject>` (its
 * own stream) and terminated.
 *
 * Handlers must be idempotent: the record is written after the handler's own
 * transaction commits, so a crash between the two hands the event over again.
 *
 * @example
 * const consumer = EventConsumer.start({ connection, service: 'order', subject, verifier, database, dispatch });
 * // ... await consumer.stop();
 */
export class EventConsumer {
  private readonly log: Logger;
  private messages?: ConsumerMessages;
  private stopped = false;
  private readonly running: Promise<void>;
  private readonly maxDeliveries: number;

  private constructor(private readonly options: EventConsumerOptions) {
    this.log = new Logger(`EventConsumer ${durableOf(options.service, options.subject)}`);
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.running = this.run();
  }

  static start(options: EventConsumerOptions): EventConsumer {
    return new EventConsumer(options);
  }

  /** Stops taking events; unacknowledged ones are delivered again later, to any replica. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.running;
  }

  /** Attaches and consumes until stopped; attaches again if the broker ends the subscription. */
  private async run(): Promise<void> {
    for (let wait = RETRY_START_MS; !this.stopped; wait = Math.min(wait * 2, MAX_SETUP_WAIT_MS)) {
      try {
        this.messages = await this.attach();
        if (this.isStopped()) {
          this.messages.stop();
          return;
        }
        wait = RETRY_START_MS;
        // Stopping ends the iteration; this.stopped may change while it runs.
        await this.drain(this.messages);
        if (!this.isStopped()) this.log.warn('subscription ended by the broker: attaching again');
      } catch (error) {
        // The producer creates its stream: until it has, this waits for it.
        this.log.warn(`cannot consume yet, retry in ${wait} ms: ${String(error)}`);
      }
      if (!this.isStopped()) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  private async attach(): Promise<ConsumerMessages> {
    const { connection, service, subject } = this.options;
    const stream = streamOf(producerOf(subject));
    const durable = durableOf(service, subject);
    const { AckPolicy, DeliverPolicy, nanos } = nats();
    const jsm = await connection.jetstreamManager();
    await ensureStream(jsm, deadLetterStreamOf(service), [`deadletter.${service}.>`]);
    await jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      // A backstop: the consumer itself dead-letters on its last delivery.
      max_deliver: this.maxDeliveries + 1,
    });
    const consumer = await connection.jetstream().consumers.get(stream, durable);
    // A deleted consumer or stream ends the iteration: run() creates the consumer again.
    return consumer.consume({ max_messages: 16, abort_on_missing_resource: true });
  }

  private async drain(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      await this.handle(message).catch((error: unknown) => {
        this.log.error(`event ${message.seq} not handled, delivered again later: ${String(error)}`);
        message.nak(this.backoff(message));
      });
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    let event: VerifiedEvent;
    try {
      event = this.options.verifier.verify(message.string(), message.subject);
    } catch (error) {
      if (!(error instanceof EventRejectedError)) throw error;
      this.log.warn(`event ${message.seq} rejected (${error.reason}): ${error.message}`);
      return this.deadLetter(message, error.reason, error.message);
    }
    if (await this.processed(event.id)) {
      this.log.log(`event ${event.id} already processed: acknowledged again, not handled`);
      await message.ackAck();
      return;
    }
    try {
      await this.options.dispatch(event);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      if (error instanceof EventRefusedError) {
        this.log.warn(`event ${event.id} refused by its handler: ${detail}`);
        return this.deadLetter(message, 'refused', detail);
      }
      if (message.info.redeliveryCount >= this.maxDeliveries) {
        this.log.error(`event ${event.id} failed ${this.maxDeliveries} times: ${detail}`);
        return this.deadLetter(message, 'retries_exhausted', detail);
      }
      this.log.warn(
        `event ${event.id} failed (delivery ${message.info.redeliveryCount}): ${detail}`,
      );
      message.nak(this.backoff(message));
      return;
    }
    await this.options.database.query(
      'INSERT INTO processed_events (event_id, subject, producer) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [event.id, event.type, event.producer],
    );
    await message.ackAck();
  }

  private async processed(id: string): Promise<boolean> {
    const rows = await this.options.database.query<{ found: number }>(
      'SELECT 1 AS found FROM processed_events WHERE event_id = $1',
      [id],
    );
    return rows.length > 0;
  }

  /** Kept in the dead-letter stream (stored, acked) before the original is terminated. */
  private async deadLetter(message: JsMsg, reason: string, detail: string): Promise<void> {
    const h = nats().headers();
    h.set(DEAD_LETTER_HEADERS.reason, reason);
    h.set(DEAD_LETTER_HEADERS.detail, detail.slice(0, 1024));
    h.set(DEAD_LETTER_HEADERS.subject, message.subject);
    h.set(DEAD_LETTER_HEADERS.sequence, String(message.seq));
    await this.options.connection
      .jetstream()
      .publish(deadLetterSubjectOf(this.options.service, this.options.subject), message.data, {
        headers: h,
        msgID: `${message.info.stream}-${message.seq}`,
        expect: { streamName: deadLetterStreamOf(this.options.service) },
      });
    message.term();
  }

  private backoff(message: JsMsg): number {
    return Math.min(500 * 2 ** message.info.redeliveryCount, MAX_BACKOFF_MS);
  }
}
