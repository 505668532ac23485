import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Context, Link, Span, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { isTracingEnabled } from './spans';

/** The W3C trace context, as it travels in a message's metadata. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Version 00 of W3C Trace Context; a later version may only append fields. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-\S*)?$/;
const MAX_TRACEPARENT = 128;
/** W3C allows more, but asks senders to keep `tracestate` within 512 characters. */
const MAX_TRACESTATE = 512;
/** The most a {@link TraceCarrier} can add to a message. */
export const MAX_TRACE_CARRIER_LENGTH = MAX_TRACEPARENT + MAX_TRACESTATE;

function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TRACEPARENT && TRACEPARENT.test(value);
}

function isTracestate(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TRACESTATE;
}

/** Whether a message's trace context is absent or well formed; a receiver refuses anything else. */
export function isTraceCarrier(carrier: { traceparent?: unknown; tracestate?: unknown }): boolean {
  return (
    (carrier.traceparent === undefined || isTraceparent(carrier.traceparent)) &&
    (carrier.tracestate === undefined || isTracestate(carrier.tracestate))
  );
}

/**
 * The trace context of HTTP headers, keeping only what is well formed: a
 * client's malformed header is dropped, never passed on to fail a later hop.
 */
export function traceCarrierOfHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): TraceCarrier {
  const { traceparent, tracestate } = headers;
  if (!isTraceparent(traceparent)) return {};
  return isTracestate(tracestate) ? { traceparent, tracestate } : { traceparent };
}

const setter: TextMapSetter<TraceCarrier> = {
  set(carrier, key, value) {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

const getter: TextMapGetter<TraceCarrier> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
};

/**
 * The trace context an outgoing message carries: the active span's when
 * tracing records, otherwise the one the current call came with, passed on
 * unchanged (as W3C asks of a hop that does not trace), so that every hop's
 * audit lines still share the trace id.
 */
export function outgoingTraceContext(incoming: TraceCarrier | undefined): TraceCarrier {
  if (!isTracingEnabled()) {
    return incoming?.traceparent
      ? { traceparent: incoming.traceparent, tracestate: incoming.tracestate }
      : {};
  }
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier, setter);
  return carrier;
}

/** The context a received message continues: its sender's span as the parent. */
export function contextOf(carrier: TraceCarrier): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, getter);
}

/**
 * A link to the trace a client claims to be part of, for a span that starts a
 * trace of its own: an edge does not let the internet choose its trace ids,
 * nor whether a request is sampled.
 */
export function linkToClaimedTrace(traceparent: string | string[] | undefined): Link[] {
  if (typeof traceparent !== 'string') return [];
  const spanContext = trace.getSpanContext(contextOf({ traceparent }));
  return spanContext && trace.isSpanContextValid(spanContext)
    ? [{ context: spanContext, attributes: { 'acme.link': 'client_traceparent' } }]
    : [];
}

export { SpanKind };
export type { Context, Span };
