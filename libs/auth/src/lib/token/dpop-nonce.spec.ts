import { randomBytes } from 'node:crypto';
import { DpopNonces } from './dpop-nonce';

const WINDOW_SEC = 60;
const T0 = 1_800_000_000_000;

describe(DpopNonces.name, () => {
  const nonces = new DpopNonces(randomBytes(32), WINDOW_SEC);

  it('accepts its nonce in the window it was made in, then asks for the next, then refuses it', () => {
    const nonce = nonces.current(T0);
    expect(nonces.check(nonce, T0)).toBe('current');
    expect(nonces.check(nonce, T0 + WINDOW_SEC * 1000)).toBe('previous');
    expect(nonces.check(nonce, T0 + 2 * WINDOW_SEC * 1000)).toBe('invalid');
  });

  it('refuses a nonce from the future, another secret, or altered', () => {
    expect(nonces.check(nonces.current(T0 + WINDOW_SEC * 1000), T0)).toBe('invalid');
    const other = new DpopNonces(randomBytes(32), WINDOW_SEC);
    expect(nonces.check(other.current(T0), T0)).toBe('invalid');
    const nonce = nonces.current(T0);
    const [window, mac] = nonce.split('.');
    expect(nonces.check(`${window}.${mac.slice(1)}x`, T0)).toBe('invalid');
    expect(nonces.check(`${(Number.parseInt(window, 36) + 1).toString(36)}.${mac}`, T0)).toBe(
      'invalid',
    );
  });

  it('refuses what is not a nonce', () => {
    for (const value of [undefined, 42, '', '.', 'zz', 'zz.']) {
      expect(nonces.check(value, T0)).toBe('invalid');
    }
  });

  it('is shared by replicas with the same secret, and uses only characters a header allows', () => {
    const secret = randomBytes(32);
    const nonce = new DpopNonces(secret, WINDOW_SEC).current(T0);
    expect(new DpopNonces(secret, WINDOW_SEC).check(nonce, T0)).toBe('current');
    // RFC 9449 8.1: NQCHAR, no quote and no backslash.
    expect(nonce).toMatch(/^[\x21\x23-\x5B\x5D-\x7E]+$/);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new DpopNonces(randomBytes(16), WINDOW_SEC)).toThrow('at least 32 bytes');
  });
});
