import { existsSync } from 'node:fs';
import { readTlsMaterial } from '@acme/transport';
import type { TlsMaterial, TransportSecurity } from '@acme/transport';
import { z } from 'zod';
import { intEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import { benchmarkInsecureFrom } from './runtime.env';
import type { RuntimeEnv } from './runtime.env';

/** Keys of how a service secures its connections to other services. */
export function transportSecurityEnv(service: string) {
  return {
    TRUST_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+$/)
      .default('acme.internal')
      .describe('SPIFFE trust domain of the service certificates (spiffe://<domain>/<service>).'),
    TRANSPORT_SECURITY: z
      .enum(['tls', 'mesh'])
      .default('tls')
      .describe(
        'Who does mutual TLS between services: `tls`, this service with its certificate; `mesh`, the sidecars of a service mesh (Istio, Linkerd) with STRICT mutual TLS and an authorization policy per service, this service speaking plaintext to its sidecar inside the pod.',
      ),
    // Checked when read (transportSecurityFrom): behind a mesh they are not needed.
    TLS_CA_FILE: z
      .string()
      .min(1)
      .default('.dev/certs/ca.crt')
      .describe(
        'PEM file of the CA that issues service certificates (with TRANSPORT_SECURITY=tls).',
      ),
    TLS_CERT_FILE: z
      .string()
      .min(1)
      .default(`.dev/certs/${service}.crt`)
      .describe("PEM file of this service's certificate (with TRANSPORT_SECURITY=tls)."),
    TLS_KEY_FILE: z
      .string()
      .min(1)
      .default(`.dev/certs/${service}.key`)
      .describe("PEM file of this service's private key (with TRANSPORT_SECURITY=tls)."),
    TLS_MIN_VERSION: z
      .enum(['TLSv1.3', 'TLSv1.2'])
      .default('TLSv1.3')
      .describe('Oldest TLS version offered between services; 1.2 only for peers that need it.'),
    MAX_FRAME_BYTES: intEnv(1024 * 1024, 1024, 64 * 1024 * 1024).describe(
      'Largest message frame, in characters of its JSON: a larger request drops the connection; a larger reply is not sent, its call is answered `reply_too_large`. Keep it the same in every service.',
    ),
  };
}

export type TransportSecurityEnv = RuntimeEnv &
  z.infer<z.ZodObject<ReturnType<typeof transportSecurityEnv>>>;

/**
 * How this service secures its connections to other services: mutual TLS with
 * its certificate (read now, so a missing file stops start-up naming its key),
 * the mesh's, or none in a benchmark without security.
 */
export function transportSecurityFrom(
  config: ConfigReader<TransportSecurityEnv>,
): TransportSecurity {
  if (benchmarkInsecureFrom(config)) return { mode: 'benchmark-insecure' };
  const env = readConfig(config, ['TRANSPORT_SECURITY', 'TLS_MIN_VERSION']);
  if (env.TRANSPORT_SECURITY === 'mesh') return { mode: 'mesh' };
  return { mode: 'mtls', tls: tlsMaterialFrom(config), minVersion: env.TLS_MIN_VERSION };
}

const TLS_FILE_KEYS = ['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE'] as const;

/** This service's certificate, key and CA, read from the configured files. */
export function tlsMaterialFrom(config: ConfigReader<TransportSecurityEnv>): TlsMaterial {
  const env = readConfig(config, TLS_FILE_KEYS);
  const missing = TLS_FILE_KEYS.filter((key) => !existsSync(env[key]));
  if (missing.length > 0) {
    const problems = missing.map(
      (key) => `  ${key}: no file at ${env[key]} (run npm run dev:setup in development)`,
    );
    throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return readTlsMaterial({
    caFile: env.TLS_CA_FILE,
    certFile: env.TLS_CERT_FILE,
    keyFile: env.TLS_KEY_FILE,
  });
}
