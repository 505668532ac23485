import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTracingEnabled } from './spans';
import { linkToClaimedTrace } from './trace-context';

const tracer = trace.getTracer('@acme');
// The request's span, on the request itself: a WeakMap entry per request would cost more
// than the property (docs/BENCHMARKS.md).
const SERVER_SPAN = Symbol('server span');
type SpannedRequest = IncomingMessage & { [SERVER_SPAN]?: Span };

/**
 * Starts the server span of an HTTP request and runs the rest of its handling
 * (`next`) inside it. The span is a new trace's root, linked to the client's
 * `traceparent` if it sent one; {@link endHttpServerSpan} ends it. Only the
 * path is recorded, never the query string or a header.
 *
 * @example
 * onRequest(request, reply, done) { startHttpServerSpan(request.raw, () => done()); }
 */
export function startHttpServerSpan(request: IncomingMessage, next: () => void): void {
  if (!isTracingEnabled()) return next();
  const method = request.method ?? 'GET';
  const span = tracer.startSpan(method, {
    kind: SpanKind.SERVER,
    root: true,
    links: linkToClaimedTrace(request.headers.traceparent),
    attributes: {
      'http.request.method': method,
      'url.path': (request.url ?? '/').split('?')[0],
    },
  });
  (request as SpannedRequest)[SERVER_SPAN] = span;
  context.with(trace.setSpan(context.active(), span), next);
}

/**
 * Ends the request's span with its status and, when a route matched, its
 * template (`/api/orders/:id`), which also names the span.
 */
export function endHttpServerSpan(request: IncomingMessage, status: number, route?: string): void {
  const spanned = request as SpannedRequest;
  const span = spanned[SERVER_SPAN];
  if (!span) return;
  spanned[SERVER_SPAN] = undefined;
  if (route) {
    span.updateName(`${request.method ?? 'GET'} ${route}`);
    span.setAttribute('http.route', route);
  }
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * The same span for an Express-style app (the auth-server): a middleware to
 * mount first, which ends the span when the response closes.
 */
export function traceHttpRequests(
  request: IncomingMessage,
  response: ServerResponse,
  next: () => void,
): void {
  if (!isTracingEnabled()) return next();
  response.once('close', () => endHttpServerSpan(request, response.statusCode));
  startHttpServerSpan(request, next);
}
