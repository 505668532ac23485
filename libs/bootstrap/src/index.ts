export { addressEnv, boolEnv, fileEnv, intEnv, listEnv, parseEnv } from './lib/env';
export {
  authOptionsFrom,
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
} from './lib/service-env';
export { createMicroservice } from './lib/create-microservice';
export { createHttpApp } from './lib/create-http-app';
export { HttpErrorFilter } from './lib/http-error.filter';
export { strictValidationPipe } from './lib/validation.pipe';
export type { ConfigReader, ServiceEnv } from './lib/service-env';
export { exitGracefullyOnSignals } from './lib/shutdown';
