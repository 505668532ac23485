import type { Algorithm } from 'jsonwebtoken';
import type { ReplayCache } from './token/dpop-proof.verifier';
import { PROVIDER_PROFILES } from './provider-profiles';
import type { AuthProvider, ProviderProfile } from './provider-profiles';

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

/** DPoP (RFC 9449) at an HTTP edge: how proofs of possession are checked. */
export interface DpopOptions {
  /**
   * `allowed`: a DPoP-bound token (`cnf.jkt`) needs the DPoP scheme and a
   * valid proof; a token bound to nothing passes as a bearer token.
   * `required`: every token must be DPoP-bound.
   */
  mode: 'allowed' | 'required';
  /** The origin clients address (`https://api.acme.example`): `htu` is this plus the request path. */
  publicOrigin: string;
  /** How old a proof may be, in seconds. */
  maxAgeSec: number;
  algorithms: readonly AsymmetricAlgorithm[];
  /** Where proofs' `jti` are remembered, shared by the replicas (Redis); default: this process's memory. */
  replayCache?: ReplayCache;
  /**
   * With it, every proof must carry a recent server nonce (RFC 9449 9), made
   * and checked with this secret (at least 32 bytes, the same on every replica).
   */
  nonceSecret?: Buffer;
}

export interface AuthOptions extends ProviderProfile {
  /** Whose token shapes to expect; {@link ProviderProfile} fields default to its profile. */
  provider: AuthProvider;
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
  /**
   * Longest accepted token lifetime (`exp - iat`, or `exp - now` without `iat`),
   * in seconds; a verified token is also remembered no longer than `iat` plus this.
   */
  maxTokenLifetimeSec: number;
  /**
   * Service name -> OAuth client id, for services whose client id is not their
   * name (providers generate them). A client-credentials token of a listed
   * client id is that service; a service not listed is the client of its own name.
   */
  serviceClients: Readonly<Record<string, string>>;
  /**
   * An unknown `kid` refetches the JWKS at most once per this interval, and a
   * failing issuer is retried after 1 s, doubling up to this interval.
   */
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
   * Refuse a message whose token is not bound to the sender's certificate
   * (RFC 8705 `cnf["x5t#S256"]`). A bound token is checked against the
   * mutual-TLS peer whatever this says.
   */
  requireCertificateBoundTokens: boolean;
  /**
   * DPoP proofs over HTTP (the gateway). Without, a DPoP-bound token is
   * refused: this service cannot check its proofs.
   */
  dpop?: DpopOptions;
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
  ...PROVIDER_PROFILES.generic,
  provider: 'generic',
  algorithms: ['ES256', 'RS256'],
  clockToleranceSec: 30,
  // The bundled auth server issues 300 s by default; Auth0's APIs default to 86400 s.
  maxTokenLifetimeSec: 86_400,
  serviceClients: {},
  jwksCooldownMs: 30_000,
  jwksMaxAgeMs: 10 * 60_000,
  issuerTimeoutMs: 5_000,
  tokenCacheSize: 10_000,
  peerIdentity: 'certificate',
  requireCertificateBoundTokens: false,
  edgeServices: ['gateway'],
} satisfies Partial<AuthOptions>;
