import { createCipheriv, randomBytes } from 'node:crypto';
import { FieldCipher } from './field-cipher';
import type { DataKeys, FieldRef } from './field-cipher';

describe(FieldCipher.name, () => {
  const keys: DataKeys = { current: 'k1', keys: { k1: randomBytes(32).toString('base64') } };
  const cipher = new FieldCipher(keys);
  const billing: FieldRef = { table: 'payments', column: 'billing_details', rowId: '1' };
  const card: FieldRef = { table: 'payments', column: 'card_fingerprint', rowId: '1' };
  const parts = (stored: string) => stored.split('.');

  it('round-trips a value, tagged with its key id, unreadable at rest', () => {
    const stored = cipher.encrypt('Alice Liddell, 1 Rabbit Hole', billing);
    expect(stored.startsWith(cipher.currentPrefix)).toBe(true);
    expect(cipher.currentPrefix).toBe('v2.k1.');
    expect(stored).not.toContain('Alice');
    expect(cipher.decrypt(stored, billing)).toBe('Alice Liddell, 1 Rabbit Hole');
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt('same', billing)).not.toBe(cipher.encrypt('same', billing));
  });

  it('refuses a value moved to another row', () => {
    const stored = cipher.encrypt('secret', billing);
    expect(() => cipher.decrypt(stored, { ...billing, rowId: '2' })).toThrow();
  });

  it('refuses a value moved to another column of the same row', () => {
    const stored = cipher.encrypt('secret', billing);
    expect(() => cipher.decrypt(stored, card)).toThrow();
    expect(() => cipher.decrypt(stored, { ...billing, table: 'refunds' })).toThrow();
  });

  it('refuses a value relabelled with another key id', () => {
    const both = new FieldCipher({ current: 'k2', keys: { ...keys.keys, k2: keys.keys['k1'] } });
    const [version, , ...rest] = parts(both.encrypt('secret', billing));
    expect(() => both.decrypt([version, 'k1', ...rest].join('.'), billing)).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const stored = parts(cipher.encrypt('secret', billing));
    const body = Buffer.from(stored[4], 'base64url');
    body[0] ^= 1;
    stored[4] = body.toString('base64url');
    expect(() => cipher.decrypt(stored.join('.'), billing)).toThrow();
  });

  it('refuses a truncated authentication tag, which GCM alone would accept down to 4 bytes', () => {
    const stored = parts(cipher.encrypt('secret', billing));
    for (const length of [4, 8, 12, 15]) {
      const truncated = [...stored];
      truncated[3] = Buffer.from(stored[3], 'base64url').subarray(0, length).toString('base64url');
      expect(() => cipher.decrypt(truncated.join('.'), billing)).toThrow(/16-byte tag/);
    }
  });

  it('refuses a field reference whose parts could run together', () => {
    expect(() => cipher.encrypt('x', { ...billing, column: 'a/b' })).toThrow(/invalid field/);
    expect(() => cipher.encrypt('x', { ...billing, rowId: '' })).toThrow(/invalid field/);
  });

  it('after rotation, encrypts with the new key and still reads the old one', () => {
    const old = cipher.encrypt('before', billing);
    const rotated = new FieldCipher(FieldCipher.rotate(keys, 'k2'));
    const fresh = rotated.encrypt('after', billing);
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(rotated.decrypt(old, billing)).toBe('before');
    expect(() => cipher.decrypt(fresh, billing)).toThrow(/unknown data key k2/);
  });

  it('re-encrypts a value with the current key', () => {
    const rotated = new FieldCipher(FieldCipher.rotate(keys, 'k2'));
    const moved = rotated.reencrypt(cipher.encrypt('before', billing), billing, 'unused');
    expect(moved).toMatch(/^v2\.k2\./);
    expect(rotated.decrypt(moved, billing)).toBe('before');
  });

  describe('v1 values (one context per row, shared by every column)', () => {
    // As the v1 format wrote them: AAD = the context only, tag length not enforced.
    const v1 = (plaintext: string, context: string) => {
      const iv = randomBytes(12);
      const gcm = createCipheriv('aes-256-gcm', Buffer.from(keys.keys['k1'], 'base64'), iv);
      gcm.setAAD(Buffer.from(context));
      const body = Buffer.concat([gcm.update(plaintext, 'utf8'), gcm.final()]);
      return [
        'v1',
        'k1',
        iv.toString('base64url'),
        gcm.getAuthTag().toString('base64url'),
        body.toString('base64url'),
      ].join('.');
    };

    it('are not read by decrypt, which names the step that upgrades them', () => {
      expect(() => cipher.decrypt(v1('old', 'payment:1'), billing)).toThrow(/rotate step/);
    });

    it('are upgraded by reencrypt, with the context they were written with', () => {
      const upgraded = cipher.reencrypt(v1('old', 'payment:1'), billing, 'payment:1');
      expect(upgraded).toMatch(/^v2\.k1\./);
      expect(cipher.decrypt(upgraded, billing)).toBe('old');
      expect(() => cipher.reencrypt(v1('old', 'payment:1'), billing, 'payment:2')).toThrow();
    });
  });

  describe(FieldCipher.retire.name, () => {
    const rotated = FieldCipher.rotate(keys, 'k2');

    it('drops an old key from the set', () => {
      expect(FieldCipher.retire(rotated, 'k1')).toEqual({
        current: 'k2',
        keys: { k2: rotated.keys['k2'] },
      });
    });

    it('refuses the current key and unknown keys', () => {
      expect(() => FieldCipher.retire(rotated, 'k2')).toThrow(/is current/);
      expect(() => FieldCipher.retire(rotated, 'k9')).toThrow(/unknown data key k9/);
    });
  });

  it('refuses keys that are not 256 bits', () => {
    expect(
      () => new FieldCipher({ current: 'k', keys: { k: randomBytes(16).toString('base64') } }),
    ).toThrow(/32 bytes/);
  });
});
