import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';

/** The tracer of this project's own spans; a no-op until {@link startTracing} registers an SDK. */
const tracer = trace.getTracer('@acme');

let enabled = false;

/**
 * Whether an SDK records spans. Every helper here checks it first, so that a
 * service without tracing pays one branch per span, not the API's no-op calls.
 */
export function isTracingEnabled(): boolean {
  return enabled;
}

/** @internal Set by startTracing once its provider is registered (and by tests). */
export function setTracingEnabled(value: boolean): void {
  enabled = value;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; the active context by default. */
  parent?: Context;
  /** Start a new trace, ignoring the active context. */
  root?: boolean;
}

/**
 * Runs `work` in a new active span, which ends when `work` returns or, for a
 * promise, settles; a throw or a rejection marks the span as an error (the
 * message only, never the stack: messages here name checks, not secrets).
 *
 * @example
 * const rows = await traced('outbox.claim', () => database.query(sql));
 */
export function traced<T>(name: string, work: (span?: Span) => T, options: SpanOptions = {}): T {
  const started = startSpan(name, options);
  if (!started) return work();
  const { span, context: active } = started;
  let result: T;
  try {
    result = context.with(active, work, undefined, span);
  } catch (error) {
    endWithError(span, error);
    throw error;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        endWithError(span, error);
        throw error;
      },
    ) as T;
  }
  span.end();
  return result;
}

/** Sets attributes on the active span, if one records. */
export function annotateActiveSpan(attributes: Attributes): void {
  if (enabled) trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active span's trace id, when a span records; undefined otherwise. */
export function activeTraceId(): string | undefined {
  if (!enabled) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

export function endWithError(span: Span, error: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : describe(error),
  });
  span.end();
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return typeof error === 'string' ? error : 'error';
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** A started span and the context in which it is active; undefined when tracing is off. */
export interface StartedSpan {
  span: Span;
  context: Context;
}

/**
 * Starts a span that the caller ends, for work whose end is not a function's
 * return (a stream, an observable); {@link traced} is simpler otherwise.
 */
export function startSpan(name: string, options: SpanOptions = {}): StartedSpan | undefined {
  if (!enabled) return undefined;
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: options.attributes,
      links: options.links,
      root: options.root,
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `work` with `active` as the active context. */
export function runInContext<T>(active: Context, work: () => T): T {
  return context.with(active, work);
}
