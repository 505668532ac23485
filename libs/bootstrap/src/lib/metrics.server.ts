import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';
import type { MetricsEnv } from './config/metrics.env';

/** The path Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

let collectingProcessMetrics = false;

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves prom-client's default registry (the acme_* metrics of every lib and
 * the process's own) as `GET /metrics` on a port of its own; anything else
 * gets 404. Plain HTTP without authentication: its place is loopback or a pod
 * port only the scraper may reach, never a public listener.
 *
 * @example
 * const metrics = await startMetricsServer({ host: '127.0.0.1', port: 9401 });
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
}): Promise<MetricsServer> {
  if (!collectingProcessMetrics) {
    collectDefaultMetrics();
    collectingProcessMetrics = true;
  }
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    register.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': register.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        Logger.error(error, 'Metrics');
        response.writeHead(500).end();
      },
    );
  });
  // Scrapes are short: an idle connection is not kept for long.
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts the metrics endpoint unless `METRICS_PORT` is 0, and closes it when
 * the app closes (on SIGTERM as in a test), so that its port is free again.
 */
export async function serveMetricsOf(
  app: INestApplicationContext,
  env: Partial<MetricsEnv>,
): Promise<void> {
  const { METRICS_HOST: host, METRICS_PORT: port } = env;
  if (typeof port !== 'number' || typeof host !== 'string') {
    throw new Error(
      "Invalid configuration:\n  METRICS_PORT: not in this app's schema; spread metricsEnv(<port>) into it",
    );
  }
  if (port === 0) return;
  const metrics = await startMetricsServer({ host, port });
  Logger.log(`metrics on http://${host}:${metrics.port}${METRICS_PATH}`, 'Bootstrap');
  // Wrapped rather than left to the signal handler: whoever closes the app frees the port. Nest
  // hands out its apps behind a proxy that drops assignments to their members, and reads each
  // method at call time: so the new close is defined (not assigned) on the app, and calls the
  // class's own close, not the proxy's, which would call itself.
  const closeApp = (Object.getPrototypeOf(app) as INestApplicationContext).close;
  Object.defineProperty(app, 'close', {
    configurable: true,
    writable: true,
    value: async function close(this: INestApplicationContext): Promise<void> {
      await closeApp.call(this);
      await metrics.close();
    },
  });
}
