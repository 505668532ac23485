import { createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { InvalidTokenError } from './invalid-token.error';
import { discoverIssuer, getJson } from './issuer-discovery';

export interface JwksCacheOptions {
  issuer: string;
  cooldownMs: number;
  maxAgeMs: number;
  timeoutMs: number;
}

interface PublishedKey {
  key: KeyObject;
  alg?: string;
}

/** The public members of each key type; anything else in a JWK (private parts included) is dropped. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/**
 * The issuer's signing keys, found through OIDC discovery and kept in memory.
 *
 * - An unknown `kid` triggers at most one refetch per cooldown, so a flood of
 *   tokens with random kids cannot turn into a flood of requests to the issuer.
 * - When the issuer is unreachable the last good keys stay in use.
 * - Only asymmetric public keys published for signatures are kept.
 */
export class JwksCache {
  private readonly log = new Logger(JwksCache.name);
  private keys = new Map<string, PublishedKey>();
  private fetchedAt = 0;
  private attemptedAt = 0;
  private jwksUri?: string;
  private inFlight?: Promise<void>;

  constructor(
    private readonly options: JwksCacheOptions,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** The key a token names by `kid`, or an {@link InvalidTokenError} if the issuer does not publish it. */
  async getKey(kid: string): Promise<PublishedKey> {
    const now = Date.now();
    let key = this.keys.get(kid);
    // Until the issuer has answered once (it may start after us), retry every second.
    const cooldownMs =
      this.fetchedAt === 0 ? Math.min(this.options.cooldownMs, 1000) : this.options.cooldownMs;
    // A fetch in flight may bring the key: wait for it rather than refuse the token meanwhile.
    if (!key && (this.inFlight !== undefined || now - this.attemptedAt >= cooldownMs)) {
      await this.refresh();
      key = this.keys.get(kid);
    } else if (key && now - this.fetchedAt >= this.options.maxAgeMs) {
      this.refresh().catch(() => undefined);
    }
    if (!key) {
      if (this.fetchedAt === 0) throw new InvalidTokenError('issuer keys unavailable');
      throw new InvalidTokenError('unknown signing key');
    }
    return key;
  }

  /** Fetches discovery (once) and the JWKS; concurrent callers share one request. */
  refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  get size(): number {
    return this.keys.size;
  }

  private async load(): Promise<void> {
    this.attemptedAt = Date.now();
    try {
      this.jwksUri ??= (
        await discoverIssuer(this.options.issuer, this.fetchFn, this.options.timeoutMs)
      ).jwks_uri;
      const jwks = await getJson(this.jwksUri, this.fetchFn, this.options.timeoutMs);
      const keys = this.parseKeys(jwks);
      this.keys = keys;
      this.fetchedAt = Date.now();
    } catch (error) {
      this.log.warn(
        `cannot refresh the keys of ${this.options.issuer}: ${(error as Error).message}`,
      );
    }
  }

  private parseKeys(jwks: Record<string, unknown>): Map<string, PublishedKey> {
    const keys = new Map<string, PublishedKey>();
    if (!Array.isArray(jwks['keys'])) throw new Error('JWKS has no keys array');
    for (const jwk of jwks['keys'] as (JsonWebKey & {
      kid?: string;
      use?: string;
      alg?: string;
    })[]) {
      const members = jwk.kty ? PUBLIC_MEMBERS[jwk.kty] : undefined;
      if (!jwk.kid || !members) continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      const publicJwk = Object.fromEntries(members.map((name) => [name, jwk[name]])) as JsonWebKey;
      try {
        keys.set(jwk.kid, {
          key: createPublicKey({ key: publicJwk, format: 'jwk' }),
          alg: jwk.alg,
        });
      } catch {
        this.log.warn(`skipping unusable key ${jwk.kid}`);
      }
    }
    return keys;
  }
}
