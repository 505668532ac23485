import { Logger } from '@nestjs/common';
import {
  ASYMMETRIC_ALGORITHMS,
  AUTH_PROVIDERS,
  DEFAULT_AUTH_OPTIONS,
  PROVIDER_PROFILES,
} from '@acme/auth';
import type { AuthOptions } from '@acme/auth';
import { z } from 'zod';
import { boolEnv, intEnv, listEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import { benchmarkInsecureFrom } from './runtime.env';
import type { TransportSecurityEnv } from './transport-security.env';

/** A claim name, or a dotted path of them; a name with `://` is one claim (Auth0's namespaced claims). */
const CLAIM = /^(?:[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+)*|[a-z][a-z0-9+.-]*:\/\/[^\s,]+)$/;

/** A comma-separated list of claims that, unset, is the provider profile's default. */
function claimListEnv(description: string) {
  return z
    .string()
    .optional()
    .transform((value) =>
      value
        ?.split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().regex(CLAIM, 'expected a claim name or dotted path')).min(1).optional(),
    )
    .describe(description);
}

/** `true`/`false` that, unset, is the provider profile's default. */
function optionalBoolEnv(description: string) {
  return z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => (value === undefined ? undefined : value === 'true'))
    .describe(description);
}

/** Keys of how a service verifies the access tokens that reach it, for tokens addressed to `audience`. */
export function tokenVerificationEnv(audience: string) {
  return {
    AUTH_ISSUER: z
      .url()
      .default('http://localhost:3001')
      .describe('Exact `iss` of accepted tokens; its discovery document names the JWKS.'),
    AUTH_ALLOW_HTTP_ISSUER: boolEnv(false).describe(
      'Accept an `http:` AUTH_ISSUER with NODE_ENV=production and TRANSPORT_SECURITY=tls (logged as a warning): discovery, keys and client secrets then travel in cleartext. Only for a network no one else can see (one machine, docker compose).',
    ),
    AUTH_AUDIENCE: z
      .string()
      .min(1)
      .default(audience)
      .describe(
        `Audience this service requires in \`aud\` (default \`${audience}\`): a token addressed to another service is refused.`,
      ),
    AUTH_PROVIDER: z
      .enum(AUTH_PROVIDERS)
      .default('generic')
      .describe(
        'Whose token shapes to expect, setting the defaults of the AUTH_CLIENT_ID_CLAIM, AUTH_REQUIRED_CLAIMS, AUTH_ACCEPT_JWT_TYP, AUTH_ALLOW_UNTYPED_TOKENS and AUTH_ROLES_CLAIM keys: `generic` (RFC 9068, the bundled auth server), `keycloak`, `auth0`, `okta` (docs/providers/).',
      ),
    AUTH_ALGORITHMS: listEnv(DEFAULT_AUTH_OPTIONS.algorithms.join(','))
      .pipe(z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1))
      .describe('Accepted signature algorithms (asymmetric only).'),
    AUTH_CLOCK_TOLERANCE_SEC: intEnv(DEFAULT_AUTH_OPTIONS.clockToleranceSec, 0, 60).describe(
      'Leeway for `exp`/`nbf`, in seconds.',
    ),
    AUTH_MAX_TOKEN_LIFETIME_SEC: intEnv(
      DEFAULT_AUTH_OPTIONS.maxTokenLifetimeSec,
      60,
      7 * 86_400,
    ).describe(
      'Longest accepted access-token lifetime (`exp - iat`), in seconds; a verified token is remembered no longer either. The default fits Auth0 APIs (86400 s); lower it to what your issuer issues (the bundled auth server: 300 s).',
    ),
    AUTH_CLIENT_ID_CLAIM: claimListEnv(
      'Claims naming the client, first present wins (default by AUTH_PROVIDER: generic `client_id`, keycloak `azp`, auth0 `azp`, okta `cid`).',
    ),
    AUTH_REQUIRED_CLAIMS: claimListEnv(
      'Claims required besides `iss`, `sub`, `aud`, `exp` and the client claim (default by AUTH_PROVIDER: `iat,jti`; auth0 `iat`).',
    ),
    AUTH_ACCEPT_JWT_TYP: optionalBoolEnv(
      'Also accept `typ: JWT` access tokens, not only `at+jwt` (default by AUTH_PROVIDER: true for keycloak and auth0).',
    ),
    AUTH_ALLOW_UNTYPED_TOKENS: optionalBoolEnv(
      'Accept access tokens whose header has no `typ` (default by AUTH_PROVIDER: true for okta only, which signs none).',
    ),
    AUTH_ROLES_CLAIM: claimListEnv(
      'Claims holding roles, merged: dotted paths such as `roles` or `resource_access.<client>.roles`, or a namespaced claim name with `://`, taken whole (default by AUTH_PROVIDER: generic `roles`, keycloak `realm_access.roles`, auth0 `permissions`, okta `groups`).',
    ),
    AUTH_SERVICE_CLIENTS: z
      .string()
      .optional()
      .transform((value, context) => {
        const clients: Record<string, string> = {};
        for (const entry of (value ?? '')
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)) {
          const match = /^([a-z][a-z0-9-]*)=([^=\s]+)$/.exec(entry);
          if (!match || Object.values(clients).includes(match[2]) || match[1] in clients) {
            context.addIssue({
              code: 'custom',
              message: `expected distinct service=clientId pairs, got "${entry}"`,
            });
            return z.NEVER;
          }
          clients[match[1]] = match[2];
        }
        return clients;
      })
      .describe(
        'OAuth client id of each service whose id is not its name, as `payment=<client id>,order=<client id>`: a client-credentials token of that client is that service (isService). Unlisted services are the client of their own name.',
      ),
    AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: optionalBoolEnv(
      'Refuse a message from another service whose token is not bound to that service\'s certificate (RFC 8705 `cnf["x5t#S256"]`, checked against the mutual-TLS peer). A bound token is always checked against the peer, and refused over HTTP. Default true with AUTH_PROVIDER=generic (the bundled auth server binds service and exchanged tokens), TRANSPORT_SECURITY=tls and AUTH_DELEGATION=exchange; false otherwise, and it cannot be true behind a mesh (no peer certificate reaches the process) or with AUTH_DELEGATION=forward (a user\'s token is not bound to a service): bearer service tokens (docs/providers/).',
    ),
    AUTH_JWKS_COOLDOWN_MS: intEnv(DEFAULT_AUTH_OPTIONS.jwksCooldownMs, 1000, 3_600_000).describe(
      'Minimum interval between JWKS refetches for unknown key ids, and the longest wait between retries of a failing issuer.',
    ),
    AUTH_TOKEN_CACHE_SIZE: intEnv(DEFAULT_AUTH_OPTIONS.tokenCacheSize, 0, 1_000_000).describe(
      'Verified tokens remembered until they expire (0 disables).',
    ),
  };
}

export type TokenVerificationEnv = TransportSecurityEnv &
  z.infer<z.ZodObject<ReturnType<typeof tokenVerificationEnv>>>;

const AUTH_KEYS = [
  'AUTH_AUDIENCE',
  'TRUST_DOMAIN',
  'AUTH_PROVIDER',
  'AUTH_ALGORITHMS',
  'AUTH_CLOCK_TOLERANCE_SEC',
  'AUTH_MAX_TOKEN_LIFETIME_SEC',
  'AUTH_CLIENT_ID_CLAIM',
  'AUTH_REQUIRED_CLAIMS',
  'AUTH_ACCEPT_JWT_TYP',
  'AUTH_ALLOW_UNTYPED_TOKENS',
  'AUTH_ROLES_CLAIM',
  'AUTH_SERVICE_CLIENTS',
  'AUTH_JWKS_COOLDOWN_MS',
  'AUTH_TOKEN_CACHE_SIZE',
  'AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS',
  'TRANSPORT_SECURITY',
] as const satisfies readonly (keyof TokenVerificationEnv)[];

/** The auth library's options from a service's validated configuration. */
export function authOptionsFrom(
  config: ConfigReader<TokenVerificationEnv>,
  service: string,
): AuthOptions {
  const env = readConfig(config, AUTH_KEYS);
  const profile = PROVIDER_PROFILES[env.AUTH_PROVIDER];
  // First: a production service with BENCH_INSECURE set must be refused for that above all.
  const benchmarkInsecure = benchmarkInsecureFrom(config);
  return {
    ...DEFAULT_AUTH_OPTIONS,
    issuer: issuerFrom(config),
    audience: env.AUTH_AUDIENCE,
    serviceName: service,
    trustDomain: env.TRUST_DOMAIN,
    provider: env.AUTH_PROVIDER,
    algorithms: env.AUTH_ALGORITHMS,
    clockToleranceSec: env.AUTH_CLOCK_TOLERANCE_SEC,
    maxTokenLifetimeSec: env.AUTH_MAX_TOKEN_LIFETIME_SEC,
    clientIdClaims: env.AUTH_CLIENT_ID_CLAIM ?? profile.clientIdClaims,
    requiredClaims: env.AUTH_REQUIRED_CLAIMS ?? profile.requiredClaims,
    acceptJwtTyp: env.AUTH_ACCEPT_JWT_TYP ?? profile.acceptJwtTyp,
    allowUntypedTokens: env.AUTH_ALLOW_UNTYPED_TOKENS ?? profile.allowUntypedTokens,
    rolesClaims: env.AUTH_ROLES_CLAIM ?? profile.rolesClaims,
    serviceClients: env.AUTH_SERVICE_CLIENTS,
    jwksCooldownMs: env.AUTH_JWKS_COOLDOWN_MS,
    tokenCacheSize: env.AUTH_TOKEN_CACHE_SIZE,
    peerIdentity: env.TRANSPORT_SECURITY === 'mesh' ? 'mesh' : 'certificate',
    requireCertificateBoundTokens: requireCertificateBoundTokensFrom(config, env),
    benchmarkInsecure,
  };
}

/**
 * Whether every message's token must be bound to the sender's certificate:
 * by default wherever the bound tokens can exist and be checked.
 */
function requireCertificateBoundTokensFrom(
  config: ConfigReader<TokenVerificationEnv>,
  env: Pick<
    TokenVerificationEnv,
    'AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS' | 'AUTH_PROVIDER' | 'TRANSPORT_SECURITY'
  >,
): boolean {
  // Every service that calls others has AUTH_DELEGATION; one that calls none forwards nothing.
  const delegation = (config as unknown as ConfigReader<Record<string, unknown>>).get(
    'AUTH_DELEGATION',
    { infer: true },
  );
  const cannot =
    env.TRANSPORT_SECURITY === 'mesh'
      ? 'TRANSPORT_SECURITY=mesh: the peer certificate stays in the sidecar'
      : delegation === 'forward'
        ? "AUTH_DELEGATION=forward: a user's forwarded token is bound to no service"
        : undefined;
  const requested = env.AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS;
  if (requested === true && cannot) {
    throw new Error(
      `Invalid configuration:\n  AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: cannot be true with ${cannot}`,
    );
  }
  return requested ?? (cannot === undefined && env.AUTH_PROVIDER === 'generic');
}

/**
 * The issuer, refused at start-up when production would reach it in cleartext:
 * its discovery document and keys decide which tokens are genuine, and client
 * secrets go to its token endpoint. Behind a mesh the sidecars encrypt the hop;
 * AUTH_ALLOW_HTTP_ISSUER accepts it anyway, with a warning.
 */
export function issuerFrom(config: ConfigReader<TokenVerificationEnv>): string {
  const env = readConfig(config, [
    'AUTH_ISSUER',
    'AUTH_ALLOW_HTTP_ISSUER',
    'NODE_ENV',
    'TRANSPORT_SECURITY',
  ]);
  const cleartext =
    new URL(env.AUTH_ISSUER).protocol === 'http:' &&
    env.NODE_ENV === 'production' &&
    env.TRANSPORT_SECURITY !== 'mesh';
  if (cleartext && !env.AUTH_ALLOW_HTTP_ISSUER) {
    throw new Error(
      `Invalid configuration:\n  AUTH_ISSUER: ${env.AUTH_ISSUER} is plain http with NODE_ENV=production; use https, TRANSPORT_SECURITY=mesh, or set AUTH_ALLOW_HTTP_ISSUER=true on a network no one else can see`,
    );
  }
  if (cleartext) {
    new Logger('Configuration').warn(
      `AUTH_ISSUER ${env.AUTH_ISSUER} is plain http (AUTH_ALLOW_HTTP_ISSUER=true): issuer keys and client secrets travel in cleartext`,
    );
  }
  return env.AUTH_ISSUER;
}
