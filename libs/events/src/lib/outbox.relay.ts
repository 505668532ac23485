import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  Optional,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DATABASE } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { contextOf, outgoingTraceContext, SpanKind, traced } from '@acme/telemetry';
import type { TraceCarrier } from '@acme/telemetry';
import type { EventBroker } from './event-broker';
import { EVENT_BROKER } from './events.module';

/** DI token of a service's {@link OutboxDirectDelivery}, if it has one. */
export const OUTBOX_DIRECT_DELIVERY = Symbol('OUTBOX_DIRECT_DELIVERY');

/**
 * How events of some outbox topics (message patterns) reach their consumer
 * when no broker is configured: straight over the mutual-TLS transport. An
 * event written with its broker subject as topic has no such path.
 */
export interface OutboxDirectDelivery {
  /** The broker subject of each direct topic, used when a broker is configured. */
  subjects: Readonly<Record<string, string>>;
  /** Sends it to the consumer; a 4xx `HttpException` other than 401, 408 and 429 is final. */
  send(topic: string, payload: unknown): Promise<unknown>;
}

interface PendingEvent {
  id: number;
  topic: string;
  payload: unknown;
  attempts: number;
  trace_context: TraceCarrier | null;
  event_id: string;
  actor_id: string | null;
  request_id: string | null;
}

const BATCH = 20;
const POLL_MS = 1_000;
/** How long a claimed event is hidden from other relays while it is being sent. */
const LEASE_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 60;

/**
 * Delivers this service's outbox (`OUTBOX_MIGRATION`, `addOutboxEvent`) until
 * each event is acknowledged: with a broker configured, to NATS JetStream,
 * signed, acknowledged once stored (the consumer side takes it from there);
 * without one, through the service's {@link OutboxDirectDelivery} if the topic
 * has one, or not at all (it waits for a broker). An event that could not be
 * delivered (consumer or broker down) is retried with backoff. Several
 * replicas may run it: each claims events with a lease (`FOR UPDATE SKIP LOCKED`).
 *
 * @example
 * // a provider of the producer's feature module; kick() after a commit for less latency
 * providers: [OutboxRelay]
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    @Inject(DATABASE) private readonly database: OpenDatabase,
    @Inject(EVENT_BROKER) private readonly broker: EventBroker | null,
    @Optional()
    @Inject(OUTBOX_DIRECT_DELIVERY)
    private readonly direct: OutboxDirectDelivery | null = null,
  ) {}

  onApplicationBootstrap(): void {
    // Creates this service's stream now, so that consumers can subscribe before the first event.
    this.broker
      ?.publisher()
      .catch((error: unknown) =>
        this.log.warn(`broker stream not ready, retried on the first event: ${String(error)}`),
      );
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Delivers what is pending now; called after each new event and on a timer. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.log.error(`outbox relay failed: ${(error as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = await this.claim();
      if (batch.length === 0) return;
      await Promise.all(batch.map((event) => this.deliver(event)));
      if (batch.length < BATCH) return;
    }
  }

  private claim(): Promise<PendingEvent[]> {
    return this.database.query<PendingEvent>(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + interval '${LEASE_SECONDS} seconds'
       WHERE id IN (
         SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= now()
         ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
       RETURNING id, topic, payload, attempts, trace_context, event_id, actor_id, request_id`,
    );
  }

  /** In the trace of the call that wrote the event, however long after it. */
  private deliver(event: PendingEvent): Promise<void> {
    return traced(`outbox.deliver ${event.topic}`, () => this.send(event), {
      kind: SpanKind.PRODUCER,
      parent: contextOf(event.trace_context ?? {}),
      attributes: {
        'messaging.destination.name': event.topic,
        'acme.outbox.attempt': event.attempts,
      },
    });
  }

  private async send(event: PendingEvent): Promise<void> {
    try {
      await (this.broker ? this.publish(this.broker, event) : this.sendDirect(event));
      await this.database.query(
        'UPDATE outbox SET delivered_at = now(), last_error = NULL WHERE id = $1',
        [event.id],
      );
    } catch (error) {
      const status = error instanceof HttpException ? error.getStatus() : 0;
      const reason = error instanceof Error ? error.message : String(error);
      if (status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429) {
        // Refused for good (e.g. the order was deleted): retrying cannot help.
        this.log.error(`outbox event ${event.id} refused (${status}): ${reason}`);
        await this.database.query(
          'UPDATE outbox SET delivered_at = now(), last_error = $2 WHERE id = $1',
          [event.id, reason],
        );
        return;
      }
      const backoff = Math.min(2 ** event.attempts, MAX_BACKOFF_SECONDS);
      this.log.warn(
        `outbox event ${event.id} not delivered (attempt ${event.attempts}), retry in ${backoff} s: ${reason}`,
      );
      await this.database.query(
        `UPDATE outbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1`,
        [event.id, backoff, reason],
      );
    }
  }

  private async sendDirect(event: PendingEvent): Promise<void> {
    if (!this.direct || !(event.topic in this.direct.subjects)) {
      // Kept, and retried: it goes out once the service runs with a broker.
      throw new Error(`${event.topic} is delivered by the broker only, and BROKER_URL is not set`);
    }
    await this.direct.send(event.topic, event.payload);
  }

  /** Signed with this service's certificate key; done once JetStream has stored it. */
  private async publish(broker: EventBroker, event: PendingEvent): Promise<void> {
    const subject = event.topic.startsWith('events.')
      ? event.topic
      : this.direct?.subjects[event.topic];
    if (!subject) {
      throw new UnprocessableEntityException(`no broker subject for outbox topic ${event.topic}`);
    }
    const publisher = await broker.publisher();
    await publisher.publish(
      {
        id: event.event_id,
        type: subject,
        ...(event.actor_id !== null && { actor: event.actor_id }),
        ...(event.request_id !== null && { requestId: event.request_id }),
        // This delivery's span (a child of the call that wrote the event), for the consumer's span.
        ...outgoingTraceContext(event.trace_context ?? undefined),
      },
      event.payload,
    );
  }
}
