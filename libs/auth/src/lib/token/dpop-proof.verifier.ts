import { createPublicKey, hash } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AsymmetricAlgorithm } from '../auth.options';
import type { DpopNonces } from './dpop-nonce';
import { tokenDigest } from './token-digest';

/** RFC 9449 7.1 and 9: the error codes of a DPoP challenge. */
export type DpopErrorCode = 'invalid_dpop_proof' | 'invalid_token' | 'use_dpop_nonce';

/** Why a DPoP proof, or the token it came with, was refused; safe to return as `error_description`. */
export class DpopError extends Error {
  override readonly name = 'DpopError';

  /** `nonce`: with `use_dpop_nonce`, the nonce the client must put in its next proof. */
  constructor(
    readonly code: DpopErrorCode,
    message: string,
    readonly nonce?: string,
  ) {
    super(message);
  }
}

/**
 * Remembers the `jti` of every proof while it could still be accepted, shared
 * by every replica (Redis) or within one process (memory).
 */
export interface ReplayCache {
  /** True the first time `key` is seen within `ttlMs`; false for a replay. */
  firstUse(key: string, ttlMs: number): Promise<boolean>;
  /**
   * A cache kept outside the process: whether it has answered since start-up. Until it has,
   * no proof can be checked, so the app is not ready (readiness, `/readyz`).
   */
  ready?(): Promise<boolean>;
  /** Releases what the cache holds open (a Redis connection) at shutdown. */
  close?(): Promise<void>;
}

/** One process's replay cache: bounded, each entry forgotten once its proof has expired. */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  firstUse(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return Promise.resolve(false);
    if (this.seen.size >= this.maxEntries) {
      for (const [seenKey, expiry] of this.seen) if (expiry <= now) this.seen.delete(seenKey);
      // Full of live proofs: refusing new ones would fail open if we dropped the oldest instead.
      if (this.seen.size >= this.maxEntries) {
        throw new DpopError('invalid_dpop_proof', 'too many proofs in flight; retry');
      }
    }
    this.seen.set(key, now + ttlMs);
    return Promise.resolve(true);
  }
}

/**
 * What the replay cache needs of a Redis client (ioredis' signatures):
 * `SET key value PX ttl NX`, `PING` for readiness, and `quit` at shutdown.
 */
export interface RedisSetNx {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null>;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
}

/**
 * A replay cache shared by every replica through Redis (`SET ... NX`,
 * atomic). It owns the client and closes it with {@link close}.
 */
export class RedisReplayCache implements ReplayCache {
  private answered = false;

  constructor(
    private readonly redis: RedisSetNx,
    private readonly prefix = 'dpop:jti:',
  ) {}

  async firstUse(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Pings Redis until it answers once; a later outage fails the proofs, not readiness. */
  async ready(): Promise<boolean> {
    this.answered ||= await this.redis.ping().then(
      () => true,
      () => false,
    );
    return this.answered;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

export interface DpopProofOptions {
  /** Accepted proof algorithms: asymmetric only. */
  algorithms: readonly AsymmetricAlgorithm[];
  /** How old a proof's `iat` may be, in seconds. */
  maxAgeSec: number;
  /** How far in the future `iat` may be (clock skew), in seconds. */
  clockToleranceSec: number;
  replayCache: ReplayCache;
  /** Server nonces: with them, every proof must carry a recent one (RFC 9449 9). */
  nonces?: DpopNonces;
}

/** What an accepted proof asks of the answer. */
export interface DpopVerified {
  /** A fresh nonce to send (`DPoP-Nonce`): the proof's is about to expire. */
  nextNonce?: string;
}

export interface DpopRequest {
  /** The `DPoP` header: one proof JWT. */
  proof: string;
  /** The request's method, as the client sent it. */
  method: string;
  /** The request URL as the client addressed it (public origin and path); query and fragment are ignored. */
  url: string;
  /** The access token presented with the proof. */
  accessToken: string;
  /** The token's `cnf.jkt`: the thumbprint of the key it is bound to. */
  boundJkt: string;
}

const MAX_CACHED_KEYS = 10_000;

/** Private members of a JWK: a proof must carry the public key only. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** RFC 7638 3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: the `jkt` a
 * DPoP-bound token carries in `cnf`.
 *
 * @example
 * jwkThumbprint({ kty: 'EC', crv: 'P-256', x, y }); // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = THUMBPRINT_MEMBERS[String(jwk['kty'])];
  if (!members) throw new DpopError('invalid_dpop_proof', 'unsupported key type in the proof');
  const canonical: Record<string, unknown> = {};
  for (const member of members) {
    if (typeof jwk[member] !== 'string') {
      throw new DpopError('invalid_dpop_proof', `the proof's key has no ${member}`);
    }
    canonical[member] = jwk[member];
  }
  return hash('sha256', JSON.stringify(canonical), 'base64url');
}

/**
 * Checks a DPoP proof (RFC 9449 4.3) for a request that presents a
 * DPoP-bound access token: one `dpop+jwt` JWT, signed with an allowed
 * asymmetric algorithm by the public key in its own `jwk` header, for this
 * method (`htm`) and URL (`htu`), recent (`iat`), never seen before (`jti`),
 * for this access token (`ath`), by the key the token is bound to (`jkt`),
 * with a recent server nonce when nonces are on. Throws {@link DpopError}.
 *
 * @example
 * await verifier.verify({ proof, method: 'GET', url: 'https://api.acme.example/api/orders', accessToken, boundJkt });
 */
export class DpopProofVerifier {
  /**
   * Public keys of recent proofs by thumbprint, which fixes the key: a client signs every proof
   * with one key, and turning its JWK into a key object each time cost a third of a check.
   */
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly options: DpopProofOptions) {}

  async verify(request: DpopRequest): Promise<DpopVerified> {
    const { thumbprint, payload } = this.verifySignature(request.proof);
    if (payload['htm'] !== request.method) {
      throw new DpopError('invalid_dpop_proof', 'the proof is for another method');
    }
    if (typeof payload['htu'] !== 'string' || !sameTarget(payload['htu'], request.url)) {
      throw new DpopError('invalid_dpop_proof', 'the proof is for another URL');
    }
    const iat = payload['iat'];
    const now = Date.now() / 1000;
    if (typeof iat !== 'number' || iat > now + this.options.clockToleranceSec) {
      throw new DpopError('invalid_dpop_proof', 'the proof has no iat, or one in the future');
    }
    if (iat < now - this.options.maxAgeSec - this.options.clockToleranceSec) {
      throw new DpopError('invalid_dpop_proof', 'the proof is too old');
    }
    // ath is the access token's SHA-256, base64url (RFC 9449 4.2): the verifier's cache key too.
    if (payload['ath'] !== tokenDigest(request.accessToken)) {
      throw new DpopError('invalid_dpop_proof', 'the proof is for another access token (ath)');
    }
    if (thumbprint !== request.boundJkt) {
      throw new DpopError('invalid_token', 'the access token is bound to another key');
    }
    const jti = payload['jti'];
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
      throw new DpopError('invalid_dpop_proof', 'the proof has no valid jti');
    }
    const nonce = this.checkNonce(payload['nonce']);
    // Checked last, so a refused proof never spends its jti.
    const windowMs = (this.options.maxAgeSec + 2 * this.options.clockToleranceSec) * 1000;
    if (!(await this.options.replayCache.firstUse(`${thumbprint}:${jti}`, windowMs))) {
      throw new DpopError('invalid_dpop_proof', 'the proof was used before');
    }
    return nonce;
  }

  private checkNonce(nonce: unknown): DpopVerified {
    const { nonces } = this.options;
    if (!nonces) return {};
    const state = nonces.check(nonce);
    if (state === 'invalid') {
      const why =
        nonce === undefined ? 'a server nonce is required' : 'the nonce is stale or unknown';
      throw new DpopError('use_dpop_nonce', why, nonces.current());
    }
    return state === 'previous' ? { nextNonce: nonces.current() } : {};
  }

  private verifySignature(proof: string): {
    thumbprint: string;
    payload: Record<string, unknown>;
  } {
    const decoded = jwt.decode(proof, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object') {
      throw new DpopError('invalid_dpop_proof', 'the proof is not a JWT');
    }
    const header = decoded.header as unknown as Record<string, unknown>;
    if (header['typ'] !== 'dpop+jwt') {
      throw new DpopError('invalid_dpop_proof', 'the proof is not typ dpop+jwt');
    }
    const alg = header['alg'] as AsymmetricAlgorithm;
    if (!this.options.algorithms.includes(alg)) {
      throw new DpopError('invalid_dpop_proof', `proof algorithm ${String(alg)} is not accepted`);
    }
    const jwk = header['jwk'];
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      throw new DpopError('invalid_dpop_proof', 'the proof carries no jwk');
    }
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw new DpopError('invalid_dpop_proof', "the proof's jwk carries a private key");
    }
    const thumbprint = jwkThumbprint(jwk as Record<string, unknown>);
    let payload: string | jwt.JwtPayload;
    try {
      const key = this.publicKey(thumbprint, jwk as JsonWebKey);
      // No expiry in a proof: its age is checked from iat above.
      payload = jwt.verify(proof, key, { algorithms: [alg], ignoreExpiration: true });
    } catch {
      throw new DpopError('invalid_dpop_proof', 'the proof signature does not verify');
    }
    if (typeof payload === 'string') {
      throw new DpopError('invalid_dpop_proof', 'the proof is not a JWT');
    }
    return { thumbprint, payload };
  }

  private publicKey(thumbprint: string, jwk: JsonWebKey): KeyObject {
    let key = this.keys.get(thumbprint);
    if (!key) {
      key = createPublicKey({ key: jwk, format: 'jwk' });
      // Bounded: a flood of new keys costs what it did without the cache, never memory.
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
      this.keys.set(thumbprint, key);
    }
    return key;
  }
}

/** RFC 9449 4.3: `htu` and the request URL compared without query and fragment, normalized. */
function sameTarget(htu: string, url: string): boolean {
  if (!URL.canParse(htu) || !URL.canParse(url)) return false;
  const strip = (value: string) => {
    const parsed = new URL(value);
    return `${parsed.origin}${parsed.pathname}`;
  };
  return strip(htu) === strip(url);
}
