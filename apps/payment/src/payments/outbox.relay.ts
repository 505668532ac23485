import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectServiceClient } from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { EVENT_ROUTES, ORDER_PATTERNS } from '@acme/contracts';
import { EVENT_BROKER } from '@acme/events';
import type { EventBroker } from '@acme/events';
import { DATABASE } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { contextOf, outgoingTraceContext, SpanKind, traced } from '@acme/telemetry';
import type { TraceCarrier } from '@acme/telemetry';

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

/** The broker subject of each outbox topic (the order pattern of the direct path). */
const BROKER_SUBJECTS: Readonly<Record<string, string>> = {
  [ORDER_PATTERNS.paymentCompleted]: EVENT_ROUTES.paymentCompleted.subject,
};

const BATCH = 20;
const POLL_MS = 1_000;
/** How long a claimed event is hidden from other relays while it is being sent. */
const LEASE_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 60;

/**
 * Delivers the outbox until each event is acknowledged: with a broker
 * configured, to NATS JetStream, signed, acknowledged once stored (the
 * consumer side takes it from there); without one, straight to the order
 * service, as this service (client credentials), acknowledged by order. A payment whose event
 * could not be delivered (order down, network cut) is retried with backoff, so
 * the order converges to PAID once order is back. Several replicas may run it:
 * each claims events with a lease (`FOR UPDATE SKIP LOCKED`).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    @Inject(DATABASE) private readonly database: OpenDatabase,
    @InjectServiceClient('order') private readonly order: ServiceClient,
    @Inject(EVENT_BROKER) private readonly broker: EventBroker | null,
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

  /** Delivers what is pending now; called after each new payment and on a timer. */
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
      await (this.broker ? this.publish(this.broker, event) : this.sendToOrder(event));
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

  private async sendToOrder(event: PendingEvent): Promise<void> {
    await this.order.sendAsService(event.topic, event.payload);
  }

  /** Signed with this service's certificate key; done once JetStream has stored it. */
  private async publish(broker: EventBroker, event: PendingEvent): Promise<void> {
    const subject = BROKER_SUBJECTS[event.topic];
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
        // This delivery's span (a child of the call that wrote the event), for order's span.
        ...outgoingTraceContext(event.trace_context ?? undefined),
      },
      event.payload,
    );
  }
}
