// Imported first by main.ts: tracing starts before the database driver loads, so its queries get spans.
import { startTracing } from '@acme/telemetry';

startTracing('payment');
