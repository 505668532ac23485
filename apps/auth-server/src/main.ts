import './tracing';
import { Logger } from '@nestjs/common';
import { exitGracefullyOnSignals, serveMetricsOf } from '@acme/bootstrap';
import { createAuthServer } from './app.factory';
import { loadConfig } from './config';
import { serveMutualTls } from './mtls/mtls-listener';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await createAuthServer(config);
  exitGracefullyOnSignals(app);
  await app.listen(config.port, config.host);
  if (config.mtls) await serveMutualTls(app, config.mtls);
  await serveMetricsOf(app, config);
  Logger.log(`Issuer ${config.issuer}, listening on ${config.host}:${config.port}`, 'AuthServer');
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? error.message : error, 'AuthServer');
  process.exit(1);
});
