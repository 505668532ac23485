import { randomBytes } from 'node:crypto';
import { FieldCipher } from './field-cipher';
import type { DataKeys } from './field-cipher';

describe(FieldCipher.name, () => {
  const keys: DataKeys = { current: 'k1', keys: { k1: randomBytes(32).toString('base64') } };
  const cipher = new FieldCipher(keys);

  it('round-trips a value, tagged with its key id, unreadable at rest', () => {
    const stored = cipher.encrypt('Alice Liddell, 1 Rabbit Hole', 'payment:1');
    expect(stored).toMatch(/^v1\.k1\./);
    expect(stored).not.toContain('Alice');
    expect(cipher.decrypt(stored, 'payment:1')).toBe('Alice Liddell, 1 Rabbit Hole');
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt('same', 'c')).not.toBe(cipher.encrypt('same', 'c'));
  });

  it('refuses a value moved to another row', () => {
    const stored = cipher.encrypt('secret', 'payment:1');
    expect(() => cipher.decrypt(stored, 'payment:2')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const stored = cipher.encrypt('secret', 'payment:1');
    const parts = stored.split('.');
    const body = Buffer.from(parts[4], 'base64url');
    body[0] ^= 1;
    parts[4] = body.toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'payment:1')).toThrow();
  });

  it('after rotation, encrypts with the new key and still reads the old one', () => {
    const old = cipher.encrypt('before', 'c');
    const rotated = new FieldCipher(FieldCipher.rotate(keys, 'k2'));
    const fresh = rotated.encrypt('after', 'c');
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(rotated.decrypt(old, 'c')).toBe('before');
    expect(() => cipher.decrypt(fresh, 'c')).toThrow(/unknown data key k2/);
  });

  it('refuses keys that are not 256 bits', () => {
    expect(
      () => new FieldCipher({ current: 'k', keys: { k: randomBytes(16).toString('base64') } }),
    ).toThrow(/32 bytes/);
  });
});
