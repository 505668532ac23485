import { Logger } from '@nestjs/common';
import type { INestMicroservice, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions, CustomStrategy } from '@nestjs/microservices';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { RpcErrorFilter, SecureTcpServer } from '@acme/transport';
import type { TransportSecurity } from '@acme/transport';
import { DenialAuditFilter } from './denial-audit.filter';
import { startEventConsumers } from './event-consumers';
import { transportSecurityFrom } from './config/transport-security.env';
import type { listenerEnv } from './config/listener.env';
import { METRICS_KEYS } from './config/metrics.env';
import type { MetricsEnv } from './config/metrics.env';
import { readConfig } from './config/config-reader';
import type { ConfigReader } from './config/config-reader';
import { serveMetricsOf } from './metrics.server';
import type { serviceEnv } from './config/service.env';
import type { z } from 'zod';
import { exitGracefullyOnSignals } from './shutdown';
import { strictValidationPipe } from './validation.pipe';

type MicroserviceEnv = z.infer<
  z.ZodObject<ReturnType<typeof serviceEnv> & ReturnType<typeof listenerEnv>>
>;

/**
 * Starts a microservice on the mutual-TLS TCP transport, configured from its
 * validated environment, and, with a broker configured (`EventsModule`), a
 * durable consumer for each of its `@EventPattern('events.…')` handlers. Nothing listens in plaintext, except behind a service
 * mesh that does mutual TLS instead (`TRANSPORT_SECURITY=mesh`) and in a
 * benchmark run with `BENCH_INSECURE` (refused outside `NODE_ENV=benchmark`).
 * No HTTP server is created, nor its framework loaded, except the small
 * metrics endpoint on its own port (`METRICS_PORT`, from {@link metricsEnv}).
 *
 * @example
 * // main.ts
 * void createMicroservice(AppModule);
 */
export async function createMicroservice(appModule: Type<unknown>): Promise<INestMicroservice> {
  let announce = (): void => undefined;
  let server: SecureTcpServer | undefined;
  // The transport is built from ConfigService once the modules exist.
  // Start-up lines wait for pino (LoggingModule), so that they are JSON too.
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(appModule, {
    bufferLogs: true,
    inject: [ConfigService],
    useFactory: (config: ConfigService<MicroserviceEnv, true>): CustomStrategy => {
      const get = <K extends keyof MicroserviceEnv>(key: K) => config.get(key, { infer: true });
      const security = transportSecurityFrom(config);
      announce = () => logListening(security, `${get('HOST')}:${get('PORT')}`);
      server = new SecureTcpServer({
        host: get('HOST'),
        port: get('PORT'),
        security,
        maxFrameSize: get('MAX_FRAME_BYTES'),
        incompleteFrameTimeoutMs: get('INCOMPLETE_FRAME_TIMEOUT_MS'),
        handshakeTimeoutMs: get('TLS_HANDSHAKE_TIMEOUT_MS'),
        idleTimeoutMs: get('IDLE_TIMEOUT_MS'),
        maxConnections: get('MAX_CONNECTIONS'),
        drainTimeoutMs: get('DRAIN_TIMEOUT_MS'),
      });
      return { strategy: server };
    },
  });
  app.useLogger(app.get(PinoNestLogger));
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new DenialAuditFilter(new RpcErrorFilter()));
  exitGracefullyOnSignals(app);
  await app.listen();
  announce();
  // The handlers are registered with the server by now; events reach the same ones.
  if (server) startEventConsumers(app, server);
  const metricsConfig: ConfigReader<MetricsEnv> = app.get(ConfigService);
  await serveMetricsOf(app, readConfig(metricsConfig, METRICS_KEYS));
  return app;
}

function logListening(security: TransportSecurity, address: string): void {
  switch (security.mode) {
    case 'mtls':
      Logger.log(
        `listening on tls://${address} (mutual TLS, ${security.minVersion}+)`,
        'Bootstrap',
      );
      break;
    case 'mesh':
      Logger.log(
        `listening on tcp://${address} for the service mesh's sidecar, which does mutual TLS (TRANSPORT_SECURITY=mesh)`,
        'Bootstrap',
      );
      break;
    case 'benchmark-insecure':
      Logger.warn(
        `BENCH_INSECURE: listening on PLAINTEXT tcp://${address}, no mutual TLS, no guards. Benchmark only.`,
        'Bootstrap',
      );
  }
}
