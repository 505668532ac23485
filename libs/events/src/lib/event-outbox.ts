import type { SqlRunner } from '@acme/persistence';
import type { TraceCarrier } from '@acme/telemetry';
import type { EventRouteSpec } from './broker-permissions';
import { producerOf } from './event-names';

/** Who and what caused an event: carried in its signed claims, never a token. */
export interface OutboxEventMeta {
  /** The user on whose behalf the change was made. */
  actor?: string;
  requestId?: string;
  /** The trace context of the call that made the change (`outgoingTraceContext`). */
  trace?: TraceCarrier;
}

/**
 * Writes an event to this service's outbox, in the caller's transaction, so
 * that it is published if and only if the change it announces commits
 * ({@link OutboxRelay} delivers it). Only the route's producer may write it.
 *
 * @example
 * await database.transaction(async (tx) => {
 *   await tx.query('UPDATE orders SET status = $2 WHERE id = $1', [id, 'SHIPPED']);
 *   await addOutboxEvent(tx, 'order', EVENT_ROUTES.orderShipped, { orderId: id }, { actor });
 * });
 */
export async function addOutboxEvent(
  tx: SqlRunner,
  service: string,
  route: EventRouteSpec,
  data: object,
  meta: OutboxEventMeta = {},
): Promise<void> {
  if (route.producer !== service || producerOf(route.subject) !== service) {
    throw new Error(
      `${service} may not publish ${route.subject}: its producer is ${route.producer}`,
    );
  }
  await tx.query(
    `INSERT INTO outbox (topic, payload, trace_context, actor_id, request_id)
     VALUES ($1, $2, $3, $4, $5)`,
    [
      route.subject,
      JSON.stringify(data),
      meta.trace ? JSON.stringify(meta.trace) : null,
      meta.actor ?? null,
      meta.requestId ?? null,
    ],
  );
}
