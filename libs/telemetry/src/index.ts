export {
  activeTraceId,
  annotateActiveSpan,
  runInContext,
  startSpan,
  traced,
  endWithError,
} from './lib/spans';
export type { SpanOptions, StartedSpan } from './lib/spans';
export { TracedGuard } from './lib/traced-guard';
export {
  contextOf,
  isTraceCarrier,
  MAX_TRACE_CARRIER_LENGTH,
  outgoingTraceContext,
  SpanKind,
  traceCarrierOfHeaders,
} from './lib/trace-context';
export type { Context, Span, TraceCarrier } from './lib/trace-context';
export { endHttpServerSpan, startHttpServerSpan, traceHttpRequests } from './lib/http-server-span';
export { shutdownTracing, startTracing } from './lib/start-tracing';
export type { Tracing, TracingEnv } from './lib/start-tracing';
