import { createHmac, timingSafeEqual } from 'node:crypto';

/** How a proof's `nonce` compares with the nonces this server hands out. */
export type DpopNonceState = 'current' | 'previous' | 'invalid';

/**
 * Server-provided DPoP nonces (RFC 9449 9): a proof must carry one this
 * server handed out recently, so a proof made in advance (by malware that
 * reached the key for a moment) is worthless later.
 *
 * Stateless, so that every replica accepts every replica's nonces without a
 * shared store: a nonce is its time window and an HMAC of it under a shared
 * secret. It stays valid for the window it was made in and the next one;
 * from the next, the server sends a fresh one with each answer.
 *
 * @example
 * const nonces = new DpopNonces(secret, 60);
 * response.setHeader('DPoP-Nonce', nonces.current());
 * nonces.check(proof.nonce); // 'current', 'previous' (send a fresh one) or 'invalid'
 */
export class DpopNonces {
  private readonly windowMs: number;

  constructor(
    private readonly secret: Buffer,
    windowSec: number,
  ) {
    if (secret.length < 32) throw new Error('a DPoP nonce secret needs at least 32 bytes');
    this.windowMs = windowSec * 1000;
  }

  /** The nonce to hand out now. */
  current(nowMs = Date.now()): string {
    return this.nonceOf(Math.floor(nowMs / this.windowMs));
  }

  check(nonce: unknown, nowMs = Date.now()): DpopNonceState {
    if (typeof nonce !== 'string') return 'invalid';
    const [encodedWindow = '', mac = ''] = nonce.split('.', 2);
    const window = Number.parseInt(encodedWindow, 36);
    const now = Math.floor(nowMs / this.windowMs);
    if (!(window === now || window === now - 1)) return 'invalid';
    const expected = Buffer.from(this.nonceOf(window));
    const given = Buffer.from(`${encodedWindow}.${mac}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return window === now ? 'current' : 'previous';
  }

  private nonceOf(window: number): string {
    const encoded = window.toString(36);
    // 128 bits of the MAC: unguessable, and short enough for every request.
    const mac = createHmac('sha256', this.secret)
      .update(`dpop-nonce:${encoded}`)
      .digest()
      .subarray(0, 16);
    return `${encoded}.${mac.toString('base64url')}`;
  }
}
