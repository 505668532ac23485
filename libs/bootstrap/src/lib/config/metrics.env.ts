import { z } from 'zod';
import { intEnv } from '../env';

/**
 * Keys of the Prometheus endpoint every service serves on a port of its own,
 * never on its public listener. On by default, on loopback: a scraper on the
 * same host (or pod) reads it, and nothing else can until METRICS_HOST says so.
 */
export function metricsEnv(defaultPort: number) {
  return {
    METRICS_HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe(
        'Interface of the metrics endpoint (`GET /metrics`, Prometheus text format). Loopback keeps it off the network; in Kubernetes `0.0.0.0`, with a NetworkPolicy that admits only the scraper.',
      ),
    METRICS_PORT: intEnv(defaultPort, 0, 65535).describe(
      'Port of the metrics endpoint, apart from the service port so that it is never public; `0` turns it off.',
    ),
  };
}

export type MetricsEnv = z.infer<z.ZodObject<ReturnType<typeof metricsEnv>>>;

export const METRICS_KEYS = Object.keys(metricsEnv(0)) as (keyof MetricsEnv)[];
