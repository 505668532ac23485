export { OtlpReceiver } from './lib/testing/otlp-receiver';
export type { ReceivedSpan } from './lib/testing/otlp-receiver';
export { startInMemoryTracing } from './lib/testing/in-memory-tracing';
