import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_RESILIENCE } from '@acme/auth';
import type { ServiceClientsOptions, ServiceCredentials } from '@acme/auth';
import { z } from 'zod';
import { intEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import { issuerFrom } from './token-verification.env';
import type { TokenVerificationEnv } from './token-verification.env';
import { transportSecurityFrom } from './transport-security.env';
import type { TransportSecurityEnv } from './transport-security.env';

/**
 * The audience a service accepts unless configured otherwise: `urn:acme:<service>`,
 * as the bundled auth server's clients name them. The gateway's is the API's.
 */
export function serviceAudience(service: string): string {
  return `urn:acme:${service}`;
}

/** `<SERVICE>_AUDIENCE` of a caller: the audience a service it calls accepts. */
export function calleeAudienceEnv(service: string) {
  return z
    .string()
    .min(1)
    .default(serviceAudience(service))
    .describe(
      `Audience (\`aud\`) the ${service} service accepts: the tokens of calls to it are exchanged for this audience (or, as itself, asked for it).`,
    );
}

/** Keys of a service that calls others. */
export function callerEnv(service: string) {
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
    AUTH_DELEGATION: z
      .enum(['exchange', 'forward'])
      .default('exchange')
      .describe(
        "How a call carries its caller's token onward: `exchange` it at the issuer (RFC 8693 token exchange, as this service's OAuth client) for a short-lived token with the callee's audience alone, naming this service in `act`; or `forward` it as it is, for issuers whose exchange this project does not drive (Auth0, Okta: docs/providers): tokens must then name every service they reach in `aud`, so any of them can replay a token at the others.",
      ),
    AUTH_CLIENT_ID: z
      .string()
      .min(1)
      .default(service)
      .describe(
        "This service's OAuth client id, for token exchange and its own tokens; with a provider that generates ids, the same as its entry in AUTH_SERVICE_CLIENTS.",
      ),
    AUTH_CLIENT_SECRET_FILE: z
      .string()
      .min(1)
      .default(`.dev/secrets/${service}.client-secret`)
      .describe(
        "File holding this service's OAuth client secret; required with AUTH_DELEGATION=exchange or when the service acts as itself.",
      ),
  };
}

export type CallerEnv = TransportSecurityEnv &
  TokenVerificationEnv &
  z.infer<z.ZodObject<ReturnType<typeof callerEnv>>> & {
    /** Present in the schema of a service that acts as itself (serviceTokenEnv). */
    AUTH_CLIENT_SCOPE?: string;
  };

/**
 * Options of `ServiceClientsModule` for calls to `services`: mutual TLS with
 * this service's own certificate, each callee's `<SERVICE>_ADDRESS` and
 * `<SERVICE>_AUDIENCE`, and this service's client credentials when it
 * exchanges tokens or acts as itself.
 */
export function serviceClientsFrom(
  config: ConfigReader<CallerEnv>,
  services: readonly string[],
): ServiceClientsOptions {
  const env = readConfig(config, [
    'MAX_FRAME_BYTES',
    'CALL_TIMEOUT_MS',
    'CALL_RETRIES',
    'CIRCUIT_FAILURE_THRESHOLD',
    'CIRCUIT_RESET_MS',
    'AUTH_DELEGATION',
    'AUTH_CLIENT_SCOPE',
  ]);
  // Every caller's schema holds `<SERVICE>_ADDRESS` and `<SERVICE>_AUDIENCE` of each callee.
  const byName = config as unknown as ConfigReader<Record<string, unknown>>;
  const keyOf = (service: string, suffix: string) =>
    `${service.toUpperCase().replaceAll('-', '_')}_${suffix}`;
  const valueOf = <T>(service: string, suffix: string): T => {
    const value = byName.get(keyOf(service, suffix), { infer: true });
    if (value === undefined) {
      throw new Error(`Invalid configuration:\n  ${keyOf(service, suffix)}: not configured`);
    }
    return value as T;
  };
  const needsCredentials =
    env.AUTH_DELEGATION === 'exchange' || env.AUTH_CLIENT_SCOPE !== undefined;
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
    addresses: Object.fromEntries(services.map((s) => [s, valueOf(s, 'ADDRESS')])),
    audiences: Object.fromEntries(services.map((s) => [s, valueOf<string>(s, 'AUDIENCE')])),
    delegation: env.AUTH_DELEGATION,
    ...(needsCredentials ? { credentials: serviceCredentialsFrom(config) } : {}),
  };
}

/** The service's own OAuth client; its secret file must exist. */
function serviceCredentialsFrom(config: ConfigReader<CallerEnv>): ServiceCredentials {
  const env = readConfig(config, [
    'AUTH_PROVIDER',
    'AUTH_CLIENT_ID',
    'AUTH_CLIENT_SECRET_FILE',
    'AUTH_CLIENT_SCOPE',
    'CALL_TIMEOUT_MS',
  ]);
  if (!existsSync(env.AUTH_CLIENT_SECRET_FILE)) {
    throw new Error(
      `Invalid configuration:\n  AUTH_CLIENT_SECRET_FILE: no file at ${env.AUTH_CLIENT_SECRET_FILE} (run npm run dev:setup in development)`,
    );
  }
  const security = transportSecurityFrom(config);
  return {
    issuer: issuerFrom(config),
    // With its own certificate, the service asks for tokens bound to it (RFC 8705).
    ...(security.mode === 'mtls' ? { tls: security.tls } : {}),
    clientId: env.AUTH_CLIENT_ID,
    clientSecret: readFileSync(env.AUTH_CLIENT_SECRET_FILE, 'utf8').trim(),
    scope: env.AUTH_CLIENT_SCOPE,
    timeoutMs: env.CALL_TIMEOUT_MS,
    targetParameter: TARGET_PARAMETERS[env.AUTH_PROVIDER],
    exchangeScope: EXCHANGE_SCOPE[env.AUTH_PROVIDER],
  };
}

/**
 * How each provider's token endpoint is told the callee: RFC 8707 `resource`
 * (the bundled auth server), `audience` (Auth0 names the API so); Keycloak
 * and Okta take audiences from their own configuration.
 */
const TARGET_PARAMETERS: Record<
  TokenVerificationEnv['AUTH_PROVIDER'],
  ServiceCredentials['targetParameter']
> = {
  generic: 'resource',
  auth0: 'audience',
  keycloak: undefined,
  okta: undefined,
};

/**
 * Whether a token exchange names the scopes it asks for: the subject token's
 * own. Okta requires `scope`; the bundled auth server takes it (and, without
 * it, gives the same); Keycloak's and Auth0's scope claims carry scopes a
 * client may not ask for by name, so they get none.
 */
const EXCHANGE_SCOPE: Record<TokenVerificationEnv['AUTH_PROVIDER'], boolean> = {
  generic: true,
  okta: true,
  keycloak: false,
  auth0: false,
};
