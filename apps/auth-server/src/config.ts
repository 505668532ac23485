import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loggingEnv, metricsEnv } from '@acme/bootstrap';
import { z } from 'zod';

export const SERVICE_NAME = 'auth-server';

/** The longest lifetime of a token the server signs, so also how long a retired key stays published. */
export const MAX_SIGNED_TOKEN_TTL = 600;

/**
 * Every setting of the auth server, read from the environment. This is the only file that reads
 * `process.env`; the rest of the app injects the parsed {@link AuthServerConfig}.
 * docs/CONFIGURATION.md is generated from these descriptions (`npm run config:docs`).
 */
export const authServerEnv = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe(
      'In `production` nothing is generated: the variables marked required and every client secret file must exist.',
    ),
  ...loggingEnv(),
  HOST: z
    .string()
    .default('127.0.0.1')
    .describe('Interface to listen on (`0.0.0.0` in a container).'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3001).describe('HTTP port.'),
  ...metricsEnv(9403),
  MTLS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe(
      'Port of the mutual-TLS listener where services ask for tokens with their certificate (RFC 8705): their client-credentials and exchanged tokens are then bound to it (`cnf["x5t#S256"]`), and refused over plain HTTP. Published as `mtls_endpoint_aliases` in discovery. Default 3443 outside production; in production off (0) unless set, and service tokens are then bearer tokens.',
    ),
  MTLS_URL: z
    .url({ protocol: /^https$/ })
    .refine(
      (url) => !url.endsWith('/') && !/[?#]/.test(url),
      'must not end with "/" or carry a query',
    )
    .optional()
    .describe(
      'Base URL of the mutual-TLS listener as the services reach it (its certificate must name that host). Required in production with MTLS_PORT; else `https://localhost:<MTLS_PORT>`.',
    ),
  TRUST_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/)
    .default('acme.internal')
    .describe(
      "SPIFFE trust domain of the services' certificates: on the mutual-TLS listener a client gets tokens only over a certificate naming `spiffe://<TRUST_DOMAIN>/<its service>` (its `service` in CLIENTS_FILE).",
    ),
  TLS_CA_FILE: z
    .string()
    .min(1)
    .default('.dev/certs/ca.crt')
    .describe(
      "PEM file of the CA of the services' certificates, trusted on the mutual-TLS listener.",
    ),
  TLS_CERT_FILE: z
    .string()
    .min(1)
    .default('.dev/certs/auth-server.crt')
    .describe("PEM file of the mutual-TLS listener's certificate."),
  TLS_KEY_FILE: z
    .string()
    .min(1)
    .default('.dev/certs/auth-server.key')
    .describe("PEM file of the mutual-TLS listener's private key."),
  ISSUER: z
    .url({ protocol: /^https?$/ })
    .refine(
      (url) => !url.endsWith('/') && !/[?#]/.test(url),
      'must not end with "/" or carry a query',
    )
    .optional()
    .describe(
      'Issuer identifier, the `iss` of every token. Required in production; else `http://localhost:<PORT>`.',
    ),
  API_AUDIENCE: z
    .string()
    .min(1)
    .default('urn:acme:api')
    .describe('Resource indicator of the API: the `aud` of every access token.'),
  ACCESS_TOKEN_TTL: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_SIGNED_TOKEN_TTL)
    .default(300)
    .describe(
      `Lifetime of access tokens and ID tokens, in seconds (at most ${MAX_SIGNED_TOKEN_TTL}).`,
    ),
  EXCHANGED_TOKEN_TTL: z.coerce
    .number()
    .int()
    .min(10)
    .max(300)
    .default(120)
    .describe(
      'Lifetime of a token obtained by token exchange (RFC 8693), in seconds; never beyond the expiry of the token exchanged.',
    ),
  TOKEN_SIGNING_ALG: z
    .enum(['ES256', 'RS256'])
    .default('ES256')
    .describe('Algorithm of access tokens and ID tokens; keys for both are published.'),
  KEYS_DIR: z
    .string()
    .default('.dev/auth-server/keys')
    .describe(
      'Outside production: folder where signing keys and cookie keys are generated on first run.',
    ),
  SIGNING_KEYS_FILE: z
    .string()
    .optional()
    .describe(
      'JWKS file with the private signing keys. Required in production; else `<KEYS_DIR>/signing-keys.json`, generated on first run.',
    ),
  COOKIE_KEYS: z
    .string()
    .refine(
      (keys) => keys.split(/[\s,]+/).every((key) => key.length >= 32),
      'every key needs 32 characters or more',
    )
    .optional()
    .describe(
      'Comma-separated secrets (32+ characters, newest first) that sign cookies. Required in production; else generated into KEYS_DIR.',
    ),
  COOKIE_KEYS_FILE: z.string().optional().describe('File holding COOKIE_KEYS (one per line).'),
  CLIENTS_FILE: z
    .string()
    .default('apps/auth-server/config/clients.json')
    .describe('Registered OAuth clients (no secrets in it).'),
  CLIENT_SECRETS_DIR: z
    .string()
    .default('.dev/secrets')
    .describe(
      'Folder of `<client_id>.client-secret` files of the confidential clients; missing ones are generated outside production.',
    ),
  USERS_FILE: z
    .string()
    .optional()
    .describe(
      'Users with their roles and scrypt password hashes. Required in production, where a user whose password is a published development one is refused; else the development users of `apps/auth-server/dev/users.json` (never in the image).',
    ),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/ })
    .optional()
    .describe(
      'Redis (7+) for sessions, grants, tokens and login throttling. Required in production; else kept in memory, for one process only.',
    ),
  REDIS_URL_FILE: z
    .string()
    .optional()
    .describe('File holding REDIS_URL (it may carry a password).'),
  REDIS_KEY_PREFIX: z.string().default('auth-server:').describe('Prefix of every Redis key.'),
  LOGIN_MAX_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe(
      'Failed sign-ins per user name and client address (an IPv4 address or an IPv6 /64) before the pair is locked.',
    ),
  LOGIN_ACCOUNT_MAX_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .max(10000)
    .default(20)
    .describe(
      'Failed sign-ins per user name from any address before the user name is locked, against guessing from many addresses.',
    ),
  LOGIN_LOCK_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(86400)
    .default(900)
    .describe('How long attempts are counted, and so how long a locked name stays locked.'),
  LOGIN_HASH_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe(
      'Password checks (scrypt, 32 MiB each) that run at once; the others wait in a queue.',
    ),
  LOGIN_HASH_QUEUE: z.coerce
    .number()
    .int()
    .min(0)
    .max(10000)
    .default(32)
    .describe(
      'Sign-ins that may wait for a password check; beyond that the server answers 429 at once.',
    ),
  JWKS_MAX_AGE: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86400)
    .default(600)
    .describe(
      'Seconds consumers may cache the JWKS (the resource servers refresh it after 600). `keys:rotate` publishes new signing keys that sign only this long later.',
    ),
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .describe('Trust `X-Forwarded-*` headers (set it behind a TLS-terminating proxy).'),
});

/** Variables that may instead be given as a path in `<NAME>_FILE` (Docker and Kubernetes secrets). */
const FILE_VARIABLES = ['COOKIE_KEYS', 'REDIS_URL'] as const;

/** Generated keys and an in-memory store are per process: fine on a laptop, wrong behind a load balancer. */
const REQUIRED_IN_PRODUCTION = [
  'ISSUER',
  'COOKIE_KEYS',
  'SIGNING_KEYS_FILE',
  'REDIS_URL',
  // The development users' passwords are published; production brings its own users.
  'USERS_FILE',
] as const;

/** The development users, read from the workspace; the image has no copy (see the Dockerfile). */
const DEV_USERS_FILE = 'apps/auth-server/dev/users.json';

const configSchema = authServerEnv.transform((env) => {
  const keysDir = resolve(env.KEYS_DIR);
  return {
    // Read under their environment names by the shared LoggingModule and metrics server.
    NODE_ENV: env.NODE_ENV,
    LOG_LEVEL: env.LOG_LEVEL,
    LOG_FORMAT: env.LOG_FORMAT,
    METRICS_HOST: env.METRICS_HOST,
    METRICS_PORT: env.METRICS_PORT,
    production: env.NODE_ENV === 'production',
    host: env.HOST,
    port: env.PORT,
    issuer: env.ISSUER ?? `http://localhost:${env.PORT}`,
    apiAudience: env.API_AUDIENCE,
    accessTokenTtl: env.ACCESS_TOKEN_TTL,
    exchangedTokenTtl: env.EXCHANGED_TOKEN_TTL,
    tokenSigningAlg: env.TOKEN_SIGNING_ALG,
    keysDir,
    signingKeysFile: resolve(env.SIGNING_KEYS_FILE ?? join(keysDir, 'signing-keys.json')),
    cookieKeys: env.COOKIE_KEYS?.split(/[\s,]+/).filter(Boolean),
    clientsFile: resolve(env.CLIENTS_FILE),
    clientSecretsDir: resolve(env.CLIENT_SECRETS_DIR),
    usersFile: resolve(env.USERS_FILE ?? DEV_USERS_FILE),
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    loginAccountMaxFailures: env.LOGIN_ACCOUNT_MAX_FAILURES,
    loginLockSeconds: env.LOGIN_LOCK_SECONDS,
    loginHashConcurrency: env.LOGIN_HASH_CONCURRENCY,
    loginHashQueue: env.LOGIN_HASH_QUEUE,
    jwksMaxAge: env.JWKS_MAX_AGE,
    trustProxy: env.TRUST_PROXY === 'true',
    mtls: mtlsOf(env),
  };
});

/** The mutual-TLS listener, or undefined when it is off. */
function mtlsOf(env: z.output<typeof authServerEnv>) {
  const port = env.MTLS_PORT ?? (env.NODE_ENV === 'production' ? 0 : 3443);
  if (port === 0) return undefined;
  return {
    host: env.HOST,
    port,
    url: env.MTLS_URL ?? `https://localhost:${port}`,
    trustDomain: env.TRUST_DOMAIN,
    caFile: resolve(env.TLS_CA_FILE),
    certFile: resolve(env.TLS_CERT_FILE),
    keyFile: resolve(env.TLS_KEY_FILE),
  };
}

export type AuthServerConfig = z.output<typeof configSchema>;

/**
 * Parses and validates the environment. Throws one error that lists every bad variable by name.
 * Not `validatedConfig(parseEnv)` of @acme/bootstrap: this reads `*_FILE` secrets and requires
 * keys in production only, and the key-rotation command reads the same config without Nest.
 *
 * @example
 * const config = parseConfig({ PORT: '3001', REDIS_URL: 'redis://127.0.0.1:6379' });
 */
export function parseConfig(env: Record<string, string | undefined>): AuthServerConfig {
  const problems: string[] = [];
  const values: Record<string, string | undefined> = { ...env };
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      problems.push(`${name}: set ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      values[name] = readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
    }
  }

  if (values.NODE_ENV === 'production') {
    for (const name of REQUIRED_IN_PRODUCTION) {
      if (values[name] === undefined) problems.push(`${name}: required in production`);
    }
    if (values.MTLS_PORT !== undefined && values.MTLS_PORT !== '0' && !values.MTLS_URL) {
      problems.push('MTLS_URL: required in production with MTLS_PORT');
    }
  }

  const result = configSchema.safeParse(values);
  if (!result.success) {
    problems.push(
      ...result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  if (problems.length > 0 || !result.success) {
    // The format of the shared `parseEnv`, so every service reports bad keys alike.
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** The configuration of this process. */
export function loadConfig(): AuthServerConfig {
  return parseConfig(process.env);
}
