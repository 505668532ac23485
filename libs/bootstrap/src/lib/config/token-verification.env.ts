import { ASYMMETRIC_ALGORITHMS, DEFAULT_AUTH_OPTIONS } from '@acme/auth';
import type { AuthOptions } from '@acme/auth';
import { z } from 'zod';
import { boolEnv, intEnv, listEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import { benchmarkInsecureFrom } from './runtime.env';
import type { TransportSecurityEnv } from './transport-security.env';

/** Keys of how a service verifies the access tokens that reach it. */
export function tokenVerificationEnv() {
  return {
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

export type TokenVerificationEnv = TransportSecurityEnv &
  z.infer<z.ZodObject<ReturnType<typeof tokenVerificationEnv>>>;

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
] as const satisfies readonly (keyof TokenVerificationEnv)[];

/** The auth library's options from a service's validated configuration. */
export function authOptionsFrom(
  config: ConfigReader<TokenVerificationEnv>,
  service: string,
): AuthOptions {
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
