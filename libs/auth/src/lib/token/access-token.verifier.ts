import { hash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Jwt, JwtHeader, VerifyOptions } from 'jsonwebtoken';
import type { AuthOptions } from '../auth.options';
import { isServiceToken, readRoles, readScopes } from '../principal';
import type { Principal } from '../principal';
import { InvalidTokenError } from './invalid-token.error';
import type { JwksCache } from './jwks.cache';

/** Header parameters that point at or embed a key: an attacker's key, by definition (RFC 8725 3.10). */
const KEY_CARRYING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

const REQUIRED_CLAIMS = {
  iss: 'string',
  sub: 'string',
  exp: 'number',
  iat: 'number',
  jti: 'string',
  client_id: 'string',
} as const;

interface CachedPrincipal {
  principal: Principal;
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
  private readonly cache = new Map<string, CachedPrincipal>();
  private readonly acceptedTypes: ReadonlySet<string>;

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
    this.acceptedTypes = new Set(options.acceptJwtTyp ? ['at+jwt', 'jwt'] : ['at+jwt']);
  }

  async verify(token: string): Promise<Principal> {
    const cacheKey = this.options.tokenCacheSize > 0 ? hashToken(token) : undefined;
    const cached = cacheKey === undefined ? undefined : this.cache.get(cacheKey);
    if (cached) {
      if (Date.now() < cached.expiresAtMs) return cached.principal;
      this.cache.delete(cacheKey as string);
    }

    const key = await this.resolveKey(token);
    let decoded: Jwt;
    try {
      decoded = jwt.verify(token, key, this.jwtOptions);
    } catch (error) {
      throw asInvalidTokenError(error);
    }
    const principal = this.toPrincipal(decoded);
    if (cacheKey !== undefined) this.remember(cacheKey, principal);
    return principal;
  }

  /**
   * Checks the header and returns the issuer's key it names. Everything that
   * can be refused before any signature math is refused here.
   */
  async resolveKey(token: string): Promise<KeyObject> {
    const header = decodeHeader(token);
    if (!(this.options.algorithms as readonly string[]).includes(header.alg)) {
      throw new InvalidTokenError(`algorithm ${header.alg} is not accepted`);
    }
    for (const name of KEY_CARRYING_HEADERS) {
      if (name in header) throw new InvalidTokenError(`token header must not carry "${name}"`);
    }
    if (header.crit !== undefined) throw new InvalidTokenError('unsupported critical header');
    const typ = normaliseTyp(header.typ);
    if (!this.acceptedTypes.has(typ)) {
      throw new InvalidTokenError(`token type "${header.typ ?? ''}" is not an access token`);
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw new InvalidTokenError('token has no key id');
    }
    const published = await this.jwks.getKey(header.kid);
    if (published.alg !== undefined && published.alg !== header.alg) {
      throw new InvalidTokenError('algorithm does not match the signing key');
    }
    return published.key;
  }

  /** Claim checks that follow a valid signature, and the mapping to a principal. */
  toPrincipal(decoded: Jwt): Principal {
    const claims = decoded.payload;
    if (typeof claims !== 'object' || claims === null)
      throw new InvalidTokenError('malformed token');
    for (const [name, type] of Object.entries(REQUIRED_CLAIMS)) {
      if (typeof claims[name] !== type) throw new InvalidTokenError(`missing claim ${name}`);
    }
    if (claims.aud === undefined) throw new InvalidTokenError('missing claim aud');
    const service = isServiceToken(claims);
    return {
      kind: service ? 'service' : 'user',
      subject: claims.sub as string,
      clientId: claims['client_id'] as string,
      roles: service ? [] : readRoles(claims, this.options.rolesClaim),
      scopes: readScopes(claims),
      tokenId: claims.jti as string,
      expiresAt: claims.exp as number,
      claims,
    };
  }

  private remember(cacheKey: string, principal: Principal): void {
    if (this.cache.size >= this.options.tokenCacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(cacheKey, { principal, expiresAtMs: principal.expiresAt * 1000 });
  }
}

/** The cache key: a token is a credential, so the cache never holds one, only its SHA-256. */
function hashToken(token: string): string {
  return hash('sha256', token, 'base64url');
}

function decodeHeader(token: string): JwtHeader {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new InvalidTokenError('malformed token');
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
    throw new InvalidTokenError('malformed token');
  }
}

function normaliseTyp(typ: string | undefined): string {
  const lower = (typ ?? '').toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** Names the check a `jsonwebtoken` error stands for, in words safe to return to the caller. */
export function asInvalidTokenError(error: unknown): InvalidTokenError {
  if (error instanceof InvalidTokenError) return error;
  if (error instanceof jwt.TokenExpiredError) return new InvalidTokenError('token expired');
  if (error instanceof jwt.NotBeforeError) return new InvalidTokenError('token not yet valid');
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt issuer invalid')) return new InvalidTokenError('wrong issuer');
  if (message.startsWith('jwt audience invalid')) return new InvalidTokenError('wrong audience');
  if (message === 'invalid signature') return new InvalidTokenError('invalid signature');
  return new InvalidTokenError('malformed token');
}
