import { createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { countJwksRefresh } from '../metrics/auth.metrics';
import { InvalidTokenError } from './invalid-token.error';
import { discoverIssuer, getJson } from './issuer-discovery';

export interface JwksCacheOptions {
  issuer: string;
  /** At most one refetch per this interval for unknown kids; also the cap of the retry backoff. */
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
 * - When the issuer is unreachable the last good keys stay in use, and it is
 *   retried after 1 s, then 2 s, 4 s ... up to the cooldown (with jitter): one
 *   schedule per issuer, shared by every caller, so neither token traffic nor
 *   readiness probes turn an outage into a flood of requests.
 * - Only asymmetric public keys published for signatures are kept.
 */
export class JwksCache {
  private readonly log = new Logger(JwksCache.name);
  private keys = new Map<string, PublishedKey>();
  private fetchedAt = 0;
  private attemptedAt = 0;
  /** Consecutive failed fetches, and when the next fetch may start. */
  private failures = 0;
  private retryAt = 0;
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
    // Until the issuer has answered once (it may start after us), only the backoff limits retries.
    const cooldownMs = this.fetchedAt === 0 ? 0 : this.options.cooldownMs;
    // A fetch in flight may bring the key: wait for it rather than refuse the token meanwhile.
    if (!key && (this.inFlight !== undefined || now - this.attemptedAt >= cooldownMs)) {
      await this.refresh();
      key = this.keys.get(kid);
    } else if (key && now - this.fetchedAt >= this.options.maxAgeMs) {
      this.refresh().catch(() => undefined);
    }
    if (!key) {
      if (this.fetchedAt === 0) {
        throw new InvalidTokenError('issuer keys unavailable', 'keys_unavailable');
      }
      throw new InvalidTokenError('unknown signing key', 'unknown_kid');
    }
    return key;
  }

  /**
   * Fetches discovery (once) and the JWKS; concurrent callers share one request.
   * While backing off after a failure it resolves at once, fetching nothing.
   */
  refresh(): Promise<void> {
    if (this.inFlight === undefined && Date.now() < this.retryAt) return Promise.resolve();
    this.inFlight ??= this.load().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Whether the issuer still publishes this key (as of the last successful fetch). */
  has(kid: string): boolean {
    return this.keys.has(kid);
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
      this.failures = 0;
      this.retryAt = 0;
      countJwksRefresh('ok');
    } catch (error) {
      countJwksRefresh('failed');
      this.failures++;
      const delayMs = backoffMs(this.failures, this.options.cooldownMs);
      this.retryAt = Date.now() + delayMs;
      this.log.warn(
        `cannot refresh the keys of ${this.options.issuer} (retry in ${delayMs} ms): ${(error as Error).message}`,
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

/** 1 s, 2 s, 4 s ... capped, each drawn from its upper half so that replicas spread out. */
function backoffMs(failures: number, capMs: number): number {
  const ceiling = Math.min(capMs, 1000 * 2 ** Math.min(failures - 1, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
