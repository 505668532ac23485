import type { INestMicroservice } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { MessageHandler, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { EVENT_BROKER, EventRefusedError } from '@acme/events';
import type { EventBroker } from '@acme/events';
import { DATABASE } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { contextOf, SpanKind, traced } from '@acme/telemetry';
import { EventContext, isRpcErrorBody, runInCallContext } from '@acme/transport';
import type { VerifiedEvent } from '@acme/transport';

/** Statuses that retrying cannot change: the event goes to the dead letters. */
function isFinal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Hands a verified event to its `@EventPattern` handler through Nest, so that
 * the global guards (`@AllowServices` against the signed producer), pipes,
 * interceptors and filters run as for any message.
 */
function dispatchTo(handler: MessageHandler, event: VerifiedEvent): Promise<void> {
  return traced(`${event.type} process`, () => handle(handler, event), {
    kind: SpanKind.CONSUMER,
    parent: contextOf(event),
    attributes: {
      'messaging.system': 'nats',
      'messaging.destination.name': event.type,
      'messaging.message.id': event.id,
      'acme.event.producer': event.producer,
    },
  });
}

async function handle(handler: MessageHandler, event: VerifiedEvent): Promise<void> {
  try {
    // An event carries no token: its handler calls other services as itself.
    const meta = {
      requestId: event.requestId,
      traceparent: event.traceparent,
      tracestate: event.tracestate,
    };
    await runInCallContext(meta, async () => {
      const result: unknown = await handler(event.data, new EventContext(event));
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    });
  } catch (error) {
    if (isRpcErrorBody(error) && isFinal(error.status)) {
      const message = Array.isArray(error.message) ? error.message.join('; ') : error.message;
      throw new EventRefusedError(`${error.status} ${error.error}: ${message}`);
    }
    throw error;
  }
}

/**
 * With a broker configured, a durable consumer for each `@EventPattern` handler
 * of a subject under `events.`; without one, nothing (events come the direct way).
 */
export function startEventConsumers(
  app: INestMicroservice,
  server: Pick<Server, 'getHandlers'>,
): void {
  let broker: EventBroker | null;
  try {
    // Through ModuleRef: the app's own get() runs in Nest's exceptions zone, which
    // exits the process on a missing provider before any catch here sees it.
    broker = app
      .get(ModuleRef)
      .get<typeof EVENT_BROKER, EventBroker | null>(EVENT_BROKER, { strict: false });
  } catch {
    return; // the service does not import EventsModule: it takes no part in events
  }
  if (!broker) return;
  const database = app.get<typeof DATABASE, OpenDatabase>(DATABASE, { strict: false });
  for (const [pattern, handler] of server.getHandlers()) {
    if (!handler.isEventHandler || !pattern.startsWith('events.')) continue;
    broker.consume(pattern, database, (event) => dispatchTo(handler, event));
  }
}
