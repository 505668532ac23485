import type { Algorithm } from 'jsonwebtoken';

/** Asymmetric algorithms only: `none` and HS* are never accepted, whatever a token's header says. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const satisfies readonly Algorithm[];

export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface AuthOptions {
  /** The exact `iss` of accepted tokens; its discovery document names the JWKS. */
  issuer: string;
  /** This service's audience: accepted tokens must list it in `aud`. */
  audience: string;
  /** Name of this service, as in the SPIFFE IDs of the mesh. */
  serviceName: string;
  /** SPIFFE trust domain of the service certificates. */
  trustDomain: string;
  algorithms: readonly AsymmetricAlgorithm[];
  /** Leeway for `exp` and `nbf`, in seconds. */
  clockToleranceSec: number;
  /** Also accept `typ: JWT` (Keycloak); otherwise only `at+jwt` (RFC 9068). */
  acceptJwtTyp: boolean;
  /** Dotted path of the roles claim: `roles`, `realm_access.roles`, `resource_access.<client>.roles`. */
  rolesClaim: string;
  /** An unknown `kid` refetches the JWKS at most once per this interval. */
  jwksCooldownMs: number;
  /** The JWKS is refreshed in the background when older than this. */
  jwksMaxAgeMs: number;
  /** Timeout of each request to the issuer. */
  issuerTimeoutMs: number;
  /** Verified tokens remembered (by hash) until they expire; 0 turns the cache off. */
  tokenCacheSize: number;
  /**
   * Who names the calling service: its mutual-TLS `certificate` (the default),
   * or the service `mesh` whose sidecars terminate mutual TLS and whose
   * authorization policies admit only the allowed callers
   * (`TRANSPORT_SECURITY=mesh`).
   */
  peerIdentity: 'certificate' | 'mesh';
  /**
   * The services that face clients (their address, their proxies): only their
   * word on the client's network (`fromNetwork`, `hasRole(role, { from })`)
   * counts in a message.
   */
  edgeServices: readonly string[];
  /**
   * Benchmark only: no global guards and no token forwarding, to measure what
   * security costs. Set from `BENCH_INSECURE`, which configuration refuses
   * outside `NODE_ENV=benchmark`; never set it anywhere else.
   */
  benchmarkInsecure?: boolean;
}

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export const DEFAULT_AUTH_OPTIONS = {
  algorithms: ['ES256', 'RS256'],
  clockToleranceSec: 30,
  acceptJwtTyp: false,
  rolesClaim: 'roles',
  jwksCooldownMs: 30_000,
  jwksMaxAgeMs: 10 * 60_000,
  issuerTimeoutMs: 5_000,
  tokenCacheSize: 10_000,
  peerIdentity: 'certificate',
  edgeServices: ['gateway'],
} satisfies Partial<AuthOptions>;
