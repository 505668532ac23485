export {
  addressEnv,
  boolEnv,
  fileEnv,
  inlineOrFile,
  intEnv,
  listEnv,
  optionalFileEnv,
  parseEnv,
} from './lib/env';
export { readConfig } from './lib/config/config-reader';
export type { ConfigReader } from './lib/config/config-reader';
export { BENCH_INSECURE_CONSENT, benchmarkInsecureFrom } from './lib/config/runtime.env';
export { tlsMaterialFrom, transportSecurityFrom } from './lib/config/transport-security.env';
export { authOptionsFrom } from './lib/config/token-verification.env';
export { serviceEnv } from './lib/config/service.env';
export type { ServiceEnv } from './lib/config/service.env';
export { listenerEnv } from './lib/config/listener.env';
export { metricsEnv } from './lib/config/metrics.env';
export type { MetricsEnv } from './lib/config/metrics.env';
export { serveMetricsOf } from './lib/metrics.server';
export type { MetricsServer } from './lib/metrics.server';
export { databaseEnv, databaseUrlFrom, persistenceFrom } from './lib/config/database.env';
export {
  calleeAudienceEnv,
  callerEnv,
  serviceAudience,
  serviceClientsFrom,
} from './lib/config/service-calls.env';
export { serviceTokenEnv } from './lib/config/service-credentials.env';
export { HEALTH_ROUTES, HealthModule } from './lib/health.module';
export type { HealthAnswer, HealthModuleOptions } from './lib/health.module';
export { LoggingModule, loggingEnv } from './lib/logging.module';
export { scrubSecrets } from './lib/log-redaction';
export { HttpErrorFilter } from './lib/http-error.filter';
export { strictValidationPipe } from './lib/validation.pipe';
export { exitGracefullyOnSignals } from './lib/shutdown';
export { validatedConfig } from './lib/validated-config';
export { configTable, normalizeTables } from './lib/config-table';
export { brokerEnv, brokerOptionsFrom } from './lib/config/broker.env';
