import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// One of OWASP's equivalent scrypt settings (N=2^15, r=8, p=3): 32 MiB per check instead of the
// 128 MiB of N=2^17, p=1, so concurrent logins cannot exhaust memory.
const N = 32768;
const R = 8;
const P = 3;
const KEY_LENGTH = 32;
const MAX_MEMORY = 64 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([\w-]{16,})\$([\w-]{43})$/;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: MAX_MEMORY }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/**
 * Hashes a password with scrypt and a random per-password salt.
 *
 * @example
 * const stored = await hashPassword('correct horse'); // 'scrypt$32768$8$1$...$...'
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, { N, r: R, p: P });
  return ['scrypt', N, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Whether `stored` has the format {@link hashPassword} writes. */
export function isPasswordHash(stored: string): boolean {
  return FORMAT.test(stored);
}

/**
 * True when `password` matches a hash made by {@link hashPassword}; false for a malformed hash or
 * cost parameters scrypt refuses (e.g. beyond its memory limit).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = FORMAT.exec(stored);
  if (!match) return false;
  const [, n, r, p, salt, hash] = match;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const actual = await derive(password, Buffer.from(salt, 'base64url'), cost).catch(
    () => undefined,
  );
  // Constant time, so the response time does not tell how much of the hash matched.
  return actual !== undefined && timingSafeEqual(actual, Buffer.from(hash, 'base64url'));
}

/**
 * A well-formed hash that no password matches. Checking a password against it costs as much as a
 * real check, so an unknown user name answers as slowly as a wrong password.
 */
export const UNMATCHABLE_HASH = [
  'scrypt',
  N,
  R,
  P,
  randomBytes(16).toString('base64url'),
  randomBytes(KEY_LENGTH).toString('base64url'),
].join('$');
