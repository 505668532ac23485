import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Jwt, JwtHeader, VerifyOptions } from 'jsonwebtoken';
import type { AuthOptions } from '../auth.options';
import { readActors, readRoles, readScopes } from '../principal';
import type { Principal } from '../principal';
import { countTokenCacheLookup } from '../metrics/auth.metrics';
import { isServiceToken } from '../provider-profiles';
import { traced } from '@acme/telemetry';
import { InvalidTokenError } from './invalid-token.error';
import type { JwksCache } from './jwks.cache';
import { tokenDigest } from './token-digest';

/** Header parameters that point at or embed a key: an attacker's key, by definition (RFC 8725 3.10). */
const KEY_CARRYING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** The type of each claim read here; `iss`, `sub`, `exp` and `aud` are required of every provider. */
const CLAIM_TYPES: Readonly<Record<string, 'string' | 'number'>> = {
  iss: 'string',
  sub: 'string',
  exp: 'number',
  iat: 'number',
  nbf: 'number',
  jti: 'string',
};
const ALWAYS_REQUIRED = ['iss', 'sub', 'exp', 'aud'];

interface CachedPrincipal {
  principal: Principal;
  /** The key that signed it: when the issuer stops publishing it, the entry is dropped. */
  kid: string;
  expiresAtMs: number;
}

/**
 * Verifies OAuth 2.0 access tokens (RFC 9068 JWTs) of one issuer for one
 * audience, and maps their claims to a {@link Principal}. HTTP (through
 * passport-jwt) and RPC share this class, so both apply exactly the same rules.
 *
 * @example
 * const principal = await verifier.verify(token); // throws InvalidTokenError
 */
export class AccessTokenVerifier {
  /** Options for `jsonwebtoken.verify`, shared with the passport-jwt strategy. */
  readonly jwtOptions: VerifyOptions & { complete: true };
  /** Keyed by {@link tokenDigest}: the cache never holds a token. */
  private readonly cache = new Map<string, CachedPrincipal>();
  private readonly acceptedTypes: ReadonlySet<string>;
  private readonly requiredClaims: readonly string[];
  /** Client id -> service name, for service tokens. */
  private readonly serviceByClient: ReadonlyMap<string, string>;

  constructor(
    private readonly options: AuthOptions,
    private readonly jwks: JwksCache,
  ) {
    this.jwtOptions = {
      algorithms: [...options.algorithms],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSec,
      complete: true,
    };
    this.acceptedTypes = new Set([
      'at+jwt',
      ...(options.acceptJwtTyp ? ['jwt'] : []),
      ...(options.allowUntypedTokens ? [''] : []),
    ]);
    this.requiredClaims = [...new Set([...ALWAYS_REQUIRED, ...options.requiredClaims])];
    this.serviceByClient = new Map(
      Object.entries(options.serviceClients).map(([service, clientId]) => [clientId, service]),
    );
  }

  /**
   * The token's principal: at once for a token verified before (still valid, its key still
   * published), else a promise, settled once the token is checked. A span `token.verify`
   * records a cache hit or the check that failed.
   */
  verify(token: string): Principal | Promise<Principal> {
    return traced('token.verify', (span) => {
      const cacheKey = this.options.tokenCacheSize > 0 ? tokenDigest(token) : undefined;
      const seen = cacheKey === undefined ? undefined : this.seen(cacheKey);
      if (seen) return seen;
      const checked = this.check(token, cacheKey);
      return span
        ? checked.catch((error: unknown) => {
            span.setAttribute('acme.token.check', asInvalidTokenError(error).check);
            throw error;
          })
        : checked;
    });
  }

  private seen(cacheKey: string): Principal | undefined {
    const cached = this.cache.get(cacheKey);
    if (!cached) return undefined;
    // A key the issuer no longer publishes (rotated out, revoked) vouches for nothing any more.
    if (Date.now() < cached.expiresAtMs && this.jwks.has(cached.kid)) {
      countTokenCacheLookup('hit');
      return cached.principal;
    }
    this.cache.delete(cacheKey);
    return undefined;
  }

  private async check(token: string, cacheKey: string | undefined): Promise<Principal> {
    if (cacheKey !== undefined) countTokenCacheLookup('miss');
    const key = await this.resolveKey(token);
    let decoded: Jwt;
    try {
      decoded = jwt.verify(token, key, this.jwtOptions);
    } catch (error) {
      throw asInvalidTokenError(error);
    }
    const principal = this.toPrincipal(decoded);
    if (cacheKey !== undefined) this.remember(cacheKey, decoded.header.kid as string, principal);
    return principal;
  }

  /**
   * Checks the header and returns the issuer's key it names. Everything that
   * can be refused before any signature math is refused here.
   */
  async resolveKey(token: string): Promise<KeyObject> {
    const header = decodeHeader(token);
    if (!(this.options.algorithms as readonly string[]).includes(header.alg)) {
      throw new InvalidTokenError(`algorithm ${header.alg} is not accepted`, 'algorithm');
    }
    for (const name of KEY_CARRYING_HEADERS) {
      if (name in header) {
        throw new InvalidTokenError(`token header must not carry "${name}"`, 'key_in_header');
      }
    }
    if (header.crit !== undefined) {
      throw new InvalidTokenError('unsupported critical header', 'critical_header');
    }
    const typ = normaliseTyp(header.typ);
    if (!this.acceptedTypes.has(typ)) {
      throw new InvalidTokenError(
        `token type "${header.typ ?? ''}" is not an access token`,
        'type',
      );
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw new InvalidTokenError('token has no key id', 'no_kid');
    }
    const published = await this.jwks.getKey(header.kid);
    if (published.alg !== undefined && published.alg !== header.alg) {
      throw new InvalidTokenError('algorithm does not match the signing key', 'algorithm');
    }
    return published.key;
  }

  /** Claim checks that follow a valid signature, and the mapping to a principal. */
  toPrincipal(decoded: Jwt): Principal {
    const claims = decoded.payload;
    if (typeof claims !== 'object' || claims === null) {
      throw new InvalidTokenError('malformed token', 'malformed');
    }
    for (const name of this.requiredClaims) {
      if (claims[name] === undefined) {
        throw new InvalidTokenError(`missing claim ${name}`, 'missing_claim');
      }
    }
    for (const [name, type] of Object.entries(CLAIM_TYPES)) {
      if (claims[name] !== undefined && typeof claims[name] !== type) {
        throw new InvalidTokenError(`malformed claim ${name}`, 'malformed');
      }
    }
    const clientIdClaim = this.options.clientIdClaims.find(
      (name) => typeof claims[name] === 'string',
    );
    if (clientIdClaim === undefined) {
      throw new InvalidTokenError(
        `missing claim ${this.options.clientIdClaims.join(' or ')}`,
        'missing_claim',
      );
    }
    this.checkLifetime(claims.exp as number, claims.iat);
    const actors = readActors(claims['act']);
    if (actors === undefined) throw new InvalidTokenError('malformed claim act', 'malformed');

    const clientId = claims[clientIdClaim] as string;
    const service = isServiceToken(this.options.provider, claims, clientId);
    return {
      kind: service ? 'service' : 'user',
      subject: claims.sub as string,
      clientId,
      ...(service ? { service: this.serviceOf(clientId) } : {}),
      // A client that is no service keeps a name no service can have.
      actors: actors.map((actor) => this.serviceOf(actor) ?? `client:${actor}`),
      roles: service ? [] : readRoles(claims, this.options.rolesClaims),
      scopes: readScopes(claims),
      tokenId: claims.jti,
      expiresAt: claims.exp as number,
      claims,
    };
  }

  /**
   * A long-lived bearer token is a long-lived credential, and it would stay in
   * the cache as long: refuse lifetimes beyond the configured maximum.
   */
  private checkLifetime(exp: number, iat: number | undefined): void {
    const lifetime =
      iat === undefined
        ? exp - Math.floor(Date.now() / 1000) - this.options.clockToleranceSec
        : exp - issuedAt(iat);
    if (lifetime > this.options.maxTokenLifetimeSec) {
      throw new InvalidTokenError('token lifetime exceeds the accepted maximum', 'lifetime');
    }
  }

  /**
   * The service a client id stands for: the one configured for it, else the
   * service of that name, unless configuration gave that name another client.
   */
  private serviceOf(clientId: string): string | undefined {
    const configured = this.serviceByClient.get(clientId);
    if (configured !== undefined) return configured;
    return Object.hasOwn(this.options.serviceClients, clientId) ? undefined : clientId;
  }

  private remember(cacheKey: string, kid: string, principal: Principal): void {
    if (this.cache.size >= this.options.tokenCacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    const iat = principal.claims['iat'];
    const until = Math.min(
      principal.expiresAt,
      issuedAt(typeof iat === 'number' ? iat : undefined) + this.options.maxTokenLifetimeSec,
    );
    this.cache.set(cacheKey, { principal, kid, expiresAtMs: until * 1000 });
  }
}

function decodeHeader(token: string): JwtHeader {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new InvalidTokenError('malformed token', 'malformed');
  try {
    const header: unknown = JSON.parse(
      Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'),
    );
    if (
      typeof header !== 'object' ||
      header === null ||
      typeof (header as JwtHeader).alg !== 'string'
    ) {
      throw new Error('no alg');
    }
    return header as JwtHeader;
  } catch {
    throw new InvalidTokenError('malformed token', 'malformed');
  }
}

function normaliseTyp(typ: string | undefined): string {
  const lower = (typ ?? '').toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** Names the check a `jsonwebtoken` error stands for, in words safe to return to the caller. */
export function asInvalidTokenError(error: unknown): InvalidTokenError {
  if (error instanceof InvalidTokenError) return error;
  if (error instanceof jwt.TokenExpiredError) {
    return new InvalidTokenError('token expired', 'expired');
  }
  if (error instanceof jwt.NotBeforeError) {
    return new InvalidTokenError('token not yet valid', 'not_yet_valid');
  }
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt issuer invalid')) {
    return new InvalidTokenError('wrong issuer', 'wrong_issuer');
  }
  if (message.startsWith('jwt audience invalid')) {
    return new InvalidTokenError('wrong audience', 'wrong_audience');
  }
  if (message === 'invalid signature') {
    return new InvalidTokenError('invalid signature', 'bad_signature');
  }
  return new InvalidTokenError('malformed token', 'malformed');
}

/** When a token's life counts from: its `iat`, but never later than now (a postdated `iat` would stretch it). */
function issuedAt(iat: number | undefined): number {
  const now = Math.floor(Date.now() / 1000);
  return iat === undefined ? now : Math.min(iat, now);
}
