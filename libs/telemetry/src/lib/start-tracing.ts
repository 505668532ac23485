import { setTracingEnabled } from './spans';

/** What a running tracer needs at shutdown: to send the spans it still holds. */
export interface Tracing {
  shutdown(): Promise<void>;
}

let running: Tracing | undefined;

const PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/**
 * The standard `OTEL_*` variables this reads itself; the exporter and the SDK
 * read the others (headers, timeouts, `OTEL_BSP_*`, `OTEL_TRACES_SAMPLER`).
 */
export interface TracingEnv {
  OTEL_SDK_DISABLED?: string;
  OTEL_TRACES_EXPORTER?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
}

export interface TracingSettings {
  endpoint: string;
  protocol: (typeof PROTOCOLS)[number];
}

/**
 * Whether to trace, and how, from the standard variables: only when an OTLP
 * endpoint is set (so `npm start` traces nothing unless asked), never with
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. Throws, naming
 * the key, for a value it cannot honour.
 */
export function tracingSettings(env: TracingEnv): TracingSettings | undefined {
  const value = (key: keyof TracingEnv) => env[key]?.trim() || undefined;
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporter = value('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp') {
    throw new Error(
      `Invalid configuration:\n  OTEL_TRACES_EXPORTER: "${exporter}" is not supported; use otlp (or none)`,
    );
  }
  const endpointKey = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const endpoint = value(endpointKey);
  if (!endpoint) return undefined;
  if (!/^https?:$/.test(URL.parse(endpoint)?.protocol ?? '')) {
    throw new Error(
      `Invalid configuration:\n  ${endpointKey}: "${endpoint}" is not an http:// or https:// URL`,
    );
  }
  const protocolKey = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolKey) ?? 'http/protobuf';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new Error(
      `Invalid configuration:\n  ${protocolKey}: "${protocol}" is not supported; use ${PROTOCOLS.join(' or ')}`,
    );
  }
  return { endpoint, protocol: protocol as TracingSettings['protocol'] };
}

/**
 * Starts OpenTelemetry tracing for this process when the `OTEL_*` variables
 * ask for it (see {@link tracingSettings}): spans go to an OTLP/HTTP receiver
 * in batches, W3C trace context is the propagation format, and PostgreSQL
 * queries get spans (only inside a traced call: a poll is not a trace). Call
 * it first in `main.ts`, before the app's modules load, so that the database
 * driver is instrumented when it loads. The SDK is loaded only when on.
 *
 * @example
 * // tracing.ts, imported first by main.ts
 * startTracing('order');
 */
export function startTracing(
  serviceName: string,
  env: TracingEnv = process.env,
): Tracing | undefined {
  const settings = tracingSettings(env);
  if (!settings || running) return running;
  // Loaded only when tracing is on: a service without it never loads the SDK.
  const { W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { detectResources, envDetector, resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { OTLPTraceExporter } = (
    settings.protocol === 'http/json'
      ? require('@opentelemetry/exporter-trace-otlp-http')
      : require('@opentelemetry/exporter-trace-otlp-proto')
  ) as typeof import('@opentelemetry/exporter-trace-otlp-proto');

  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by envDetector, win over the default name.
  const resource = resourceFromAttributes({ 'service.name': serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  setTracingEnabled(true);
  running = {
    shutdown: async () => {
      setTracingEnabled(false);
      running = undefined;
      await provider.shutdown();
    },
  };
  return running;
}

/** Sends the spans still held and stops tracing; nothing when tracing is off. */
export async function shutdownTracing(): Promise<void> {
  await running?.shutdown();
}
