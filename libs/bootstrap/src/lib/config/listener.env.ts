import { z } from 'zod';
import { intEnv } from '../env';

/** Keys of a service that listens on the secure TCP transport. */
export function listenerEnv(defaultPort: number) {
  return {
    HOST: z.string().default('127.0.0.1').describe('Interface to listen on.'),
    PORT: intEnv(defaultPort, 1, 65535).describe('TCP port of the mutual-TLS transport.'),
    INCOMPLETE_FRAME_TIMEOUT_MS: intEnv(10_000, 100, 120_000).describe(
      'A frame not complete after this long drops the connection.',
    ),
    TLS_HANDSHAKE_TIMEOUT_MS: intEnv(5_000, 100, 60_000).describe(
      'A peer that has not finished the TLS handshake by then is disconnected.',
    ),
    IDLE_TIMEOUT_MS: intEnv(120_000, 1_000, 3_600_000).describe(
      'A connection without traffic for this long is closed.',
    ),
    MAX_CONNECTIONS: intEnv(1_000, 1, 100_000).describe('Concurrent connections accepted.'),
    DRAIN_TIMEOUT_MS: intEnv(5_000, 0, 60_000).describe(
      'On SIGTERM, how long messages being handled may take to finish.',
    ),
  };
}

export type ListenerEnv = z.infer<z.ZodObject<ReturnType<typeof listenerEnv>>>;
