import { DEFAULT_RESILIENCE } from '@acme/auth';
import type { ServiceClientsOptions } from '@acme/auth';
import type { z } from 'zod';
import { intEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import { transportSecurityFrom } from './transport-security.env';
import type { TransportSecurityEnv } from './transport-security.env';

/** Keys of a service that calls others. */
export function callerEnv() {
  return {
    CALL_TIMEOUT_MS: intEnv(5_000, 100, 60_000).describe(
      'Timeout of each call to another service.',
    ),
    CALL_RETRIES: intEnv(2, 0, 5).describe(
      'Retries of idempotent calls after a transport failure, with backoff.',
    ),
    CIRCUIT_FAILURE_THRESHOLD: intEnv(5, 1, 1_000).describe(
      'Consecutive calls to a service that get no answer (timeout, dropped or refused connection) that open its circuit (fast 503s); an error answer never counts, nor a refused connection before the service has ever answered (it is starting).',
    ),
    CIRCUIT_RESET_MS: intEnv(5_000, 100, 600_000).describe(
      'How long an open circuit refuses calls before a trial call.',
    ),
  };
}

export type CallerEnv = TransportSecurityEnv & z.infer<z.ZodObject<ReturnType<typeof callerEnv>>>;

/**
 * Options of `ServiceClientsModule` from a service's configuration: mutual TLS
 * with its own certificate, and its client credentials when it has some.
 */
export function serviceClientsFrom(
  config: ConfigReader<CallerEnv>,
  addresses: ServiceClientsOptions['addresses'],
): ServiceClientsOptions {
  const env = readConfig(config, [
    'MAX_FRAME_BYTES',
    'CALL_TIMEOUT_MS',
    'CALL_RETRIES',
    'CIRCUIT_FAILURE_THRESHOLD',
    'CIRCUIT_RESET_MS',
  ]);
  return {
    security: transportSecurityFrom(config),
    maxFrameSize: env.MAX_FRAME_BYTES,
    timeoutMs: env.CALL_TIMEOUT_MS,
    resilience: {
      ...DEFAULT_RESILIENCE,
      retries: env.CALL_RETRIES,
      breaker: {
        failureThreshold: env.CIRCUIT_FAILURE_THRESHOLD,
        resetAfterMs: env.CIRCUIT_RESET_MS,
      },
    },
    addresses,
  };
}
