export { addressEnv, boolEnv, fileEnv, intEnv, listEnv, parseEnv } from './lib/env';
export {
  authOptionsFrom,
  BENCH_INSECURE_CONSENT,
  benchmarkInsecureFrom,
  callerEnv,
  databaseEnv,
  persistenceFrom,
  readConfig,
  listenerEnv,
  serviceClientEnv,
  serviceClientsFrom,
  serviceCredentialsFrom,
  serviceEnv,
  tlsMaterialFrom,
  transportSecurityFrom,
} from './lib/service-env';
export { createMicroservice } from './lib/create-microservice';
export { HEALTH_ROUTES, HealthModule } from './lib/health.module';
export type { HealthAnswer, HealthModuleOptions } from './lib/health.module';
export { LoggingModule, loggingEnv } from './lib/logging.module';
export { scrubSecrets } from './lib/log-redaction';
export { HttpErrorFilter } from './lib/http-error.filter';
export { strictValidationPipe } from './lib/validation.pipe';
export type { ConfigReader, ServiceEnv } from './lib/service-env';
export { exitGracefullyOnSignals } from './lib/shutdown';
export { validatedConfig } from './lib/validated-config';
export { configTable, normalizeTables } from './lib/config-table';
