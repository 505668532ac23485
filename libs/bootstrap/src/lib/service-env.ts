import { ASYMMETRIC_ALGORITHMS, DEFAULT_AUTH_OPTIONS, DEFAULT_RESILIENCE } from '@acme/auth';
import type { AuthOptions, ServiceClientsOptions, ServiceCredentials } from '@acme/auth';
import { existsSync, readFileSync } from 'node:fs';
import type { Migration, PersistenceOptions } from '@acme/persistence';
import { readTlsMaterial } from '@acme/transport';
import type { TlsMaterial, TransportSecurity } from '@acme/transport';
import { z } from 'zod';
import { boolEnv, fileEnv, intEnv, listEnv } from './env';

/** The one value of `BENCH_INSECURE` that switches security off, and only under `NODE_ENV=benchmark`. */
export const BENCH_INSECURE_CONSENT = 'i-understand-this-disables-security';

/** Keys every service shares: who it is, its TLS material, and how it verifies tokens. */
export function serviceEnv(service: string) {
  return {
    NODE_ENV: z
      .enum(['development', 'production', 'test', 'benchmark'])
      .default('development')
      .describe('Runtime mode; `benchmark` is for `npm run bench` only.'),
    BENCH_INSECURE: z
      .literal(BENCH_INSECURE_CONSENT)
      .optional()
      .describe(
        `Benchmark only, refused unless NODE_ENV=benchmark: \`${BENCH_INSECURE_CONSENT}\` turns off mutual TLS, token verification and every guard, to measure what they cost.`,
      ),
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
    AUTH_ISSUER: z
      .url()
      .default('http://localhost:3001')
      .describe('Exact `iss` of accepted tokens; its discovery document names the JWKS.'),
    AUTH_AUDIENCE: z
      .string()
      .min(1)
      .default('urn:acme:api')
      .describe('Audience this service requires in `aud`.'),
    AUTH_ALGORITHMS: listEnv(DEFAULT_AUTH_OPTIONS.algorithms.join(','))
      .pipe(z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1))
      .describe('Accepted signature algorithms (asymmetric only).'),
    AUTH_CLOCK_TOLERANCE_SEC: intEnv(DEFAULT_AUTH_OPTIONS.clockToleranceSec, 0, 60).describe(
      'Leeway for `exp`/`nbf`, in seconds.',
    ),
    AUTH_ACCEPT_JWT_TYP: boolEnv(DEFAULT_AUTH_OPTIONS.acceptJwtTyp).describe(
      'Also accept `typ: JWT` access tokens (Keycloak); default only `at+jwt`.',
    ),
    AUTH_ROLES_CLAIM: z
      .string()
      .regex(/^[A-Za-z0-9_:.-]+$/)
      .default(DEFAULT_AUTH_OPTIONS.rolesClaim)
      .describe('Dotted path of the roles claim, e.g. `roles` or `realm_access.roles` (Keycloak).'),
    AUTH_JWKS_COOLDOWN_MS: intEnv(DEFAULT_AUTH_OPTIONS.jwksCooldownMs, 1000, 3_600_000).describe(
      'Minimum interval between JWKS refetches for unknown key ids.',
    ),
    AUTH_TOKEN_CACHE_SIZE: intEnv(DEFAULT_AUTH_OPTIONS.tokenCacheSize, 0, 1_000_000).describe(
      'Verified tokens remembered until they expire (0 disables).',
    ),
  };
}

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

/** Keys of a service that owns a database. */
export function databaseEnv(service: string, schema: string) {
  return {
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/ })
      .optional()
      .describe(
        'PostgreSQL URL; without it an embedded PostgreSQL (PGlite) keeps the data in DATA_DIR.',
      ),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default(schema)
      .describe('PostgreSQL schema this service owns; no other service reads it.'),
    DATA_DIR: z
      .string()
      .min(1)
      .default(`.dev/data/${service}`)
      .describe('Files of the embedded database.'),
    DATABASE_MIGRATE_ON_START: boolEnv(true).describe(
      'Apply pending migrations at start-up; in production set false and run `npm run db:migrate`.',
    ),
  };
}

type DatabaseConfig = z.infer<z.ZodObject<ReturnType<typeof databaseEnv>>>;

/** Options of `PersistenceModule` from a service's configuration. */
export function persistenceFrom(
  config: ConfigReader<DatabaseConfig>,
  migrations: readonly Migration[],
): PersistenceOptions {
  const env = readConfig(config, [
    'DATABASE_URL',
    'DATABASE_SCHEMA',
    'DATA_DIR',
    'DATABASE_MIGRATE_ON_START',
  ]);
  return {
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    dataDir: env.DATA_DIR,
    migrateOnStart: env.DATABASE_MIGRATE_ON_START,
    migrations,
  };
}

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

/** Keys of a service that authenticates as itself (client credentials). */
export function serviceClientEnv(service: string, scope: string) {
  return {
    AUTH_CLIENT_ID: z.string().min(1).default(service).describe("This service's OAuth client id."),
    AUTH_CLIENT_SECRET_FILE: fileEnv(`.dev/secrets/${service}.client-secret`).describe(
      "File holding this service's OAuth client secret.",
    ),
    AUTH_CLIENT_SCOPE: z
      .string()
      .min(1)
      .default(scope)
      .describe('Scopes this service asks for when it acts for itself.'),
  };
}

type CallerConfig = ServiceEnv & z.infer<z.ZodObject<ReturnType<typeof callerEnv>>>;
type ServiceClientConfig = z.infer<z.ZodObject<ReturnType<typeof serviceClientEnv>>>;

/**
 * Options of `ServiceClientsModule` from a service's configuration: mutual TLS
 * with its own certificate, and its client credentials when it has some.
 */
export function serviceClientsFrom(
  config: ConfigReader<CallerConfig>,
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

/** The service's own OAuth client, for calls it makes as itself. */
export function serviceCredentialsFrom(
  config: ConfigReader<CallerConfig & ServiceClientConfig>,
): ServiceCredentials {
  const env = readConfig(config, [
    'AUTH_ISSUER',
    'AUTH_CLIENT_ID',
    'AUTH_CLIENT_SECRET_FILE',
    'AUTH_CLIENT_SCOPE',
    'CALL_TIMEOUT_MS',
  ]);
  return {
    issuer: env.AUTH_ISSUER,
    clientId: env.AUTH_CLIENT_ID,
    clientSecret: readFileSync(env.AUTH_CLIENT_SECRET_FILE, 'utf8').trim(),
    scope: env.AUTH_CLIENT_SCOPE,
    timeoutMs: env.CALL_TIMEOUT_MS,
  };
}

export type ServiceEnv = z.infer<z.ZodObject<ReturnType<typeof serviceEnv>>>;

/** Typed reads of validated configuration; `ConfigService<AppConfig, true>` is one. */
export interface ConfigReader<T> {
  get<K extends keyof T>(key: K, options: { infer: true }): T[K];
}

/** Reads the given keys of validated configuration into a plain object. */
export function readConfig<T, K extends keyof T>(
  config: ConfigReader<T>,
  keys: readonly K[],
): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, config.get(key, { infer: true })])) as Pick<
    T,
    K
  >;
}

const AUTH_KEYS = [
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'TRUST_DOMAIN',
  'AUTH_ALGORITHMS',
  'AUTH_CLOCK_TOLERANCE_SEC',
  'AUTH_ACCEPT_JWT_TYP',
  'AUTH_ROLES_CLAIM',
  'AUTH_JWKS_COOLDOWN_MS',
  'AUTH_TOKEN_CACHE_SIZE',
  'TRANSPORT_SECURITY',
] as const satisfies readonly (keyof ServiceEnv)[];

/** The auth library's options from a service's validated configuration. */
export function authOptionsFrom(config: ConfigReader<ServiceEnv>, service: string): AuthOptions {
  const env = readConfig(config, AUTH_KEYS);
  return {
    ...DEFAULT_AUTH_OPTIONS,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    serviceName: service,
    trustDomain: env.TRUST_DOMAIN,
    algorithms: env.AUTH_ALGORITHMS,
    clockToleranceSec: env.AUTH_CLOCK_TOLERANCE_SEC,
    acceptJwtTyp: env.AUTH_ACCEPT_JWT_TYP,
    rolesClaim: env.AUTH_ROLES_CLAIM,
    jwksCooldownMs: env.AUTH_JWKS_COOLDOWN_MS,
    tokenCacheSize: env.AUTH_TOKEN_CACHE_SIZE,
    peerIdentity: env.TRANSPORT_SECURITY === 'mesh' ? 'mesh' : 'certificate',
    benchmarkInsecure: benchmarkInsecureFrom(config),
  };
}

/**
 * Whether this is a benchmark run without security. Throws, naming the key,
 * when `BENCH_INSECURE` is set under any `NODE_ENV` but `benchmark`: no
 * production, test or development configuration can switch security off.
 */
export function benchmarkInsecureFrom(config: ConfigReader<ServiceEnv>): boolean {
  const env = readConfig(config, ['NODE_ENV', 'BENCH_INSECURE']);
  if (env.BENCH_INSECURE === undefined) return false;
  if (env.NODE_ENV !== 'benchmark') {
    throw new Error(
      `Invalid configuration:\n  BENCH_INSECURE: refused with NODE_ENV=${env.NODE_ENV}; it switches security off and is accepted only with NODE_ENV=benchmark`,
    );
  }
  return true;
}

/**
 * How this service secures its connections to other services: mutual TLS with
 * its certificate (read now, so a missing file stops start-up naming its key),
 * the mesh's, or none in a benchmark without security.
 */
export function transportSecurityFrom(config: ConfigReader<ServiceEnv>): TransportSecurity {
  if (benchmarkInsecureFrom(config)) return { mode: 'benchmark-insecure' };
  const env = readConfig(config, ['TRANSPORT_SECURITY', 'TLS_MIN_VERSION']);
  if (env.TRANSPORT_SECURITY === 'mesh') return { mode: 'mesh' };
  return { mode: 'mtls', tls: tlsMaterialFrom(config), minVersion: env.TLS_MIN_VERSION };
}

const TLS_FILE_KEYS = ['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE'] as const;

/** This service's certificate, key and CA, read from the configured files. */
export function tlsMaterialFrom(config: ConfigReader<ServiceEnv>): TlsMaterial {
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
