import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateSigningKeySet,
  loadSigningKeys,
  rotateSigningKeys,
  toProviderJwks,
  type SigningKeySet,
} from './signing-keys';

describe('signing keys', () => {
  const kids = (set: SigningKeySet) => set.keys.map((key) => key.kid);

  it('generates one private key per algorithm, identified by its RFC 7638 thumbprint', () => {
    const { keys } = generateSigningKeySet();
    expect(keys.map((key) => [key.kty, key.alg, key.use])).toEqual([
      ['EC', 'ES256', 'sig'],
      ['RSA', 'RS256', 'sig'],
    ]);
    for (const key of keys) expect(key.kid).toMatch(/^[\w-]{43}$/);
  });

  describe(rotateSigningKeys.name, () => {
    const initial = generateSigningKeySet();

    it('puts new current keys first and retires the current ones', () => {
      const rotated = rotateSigningKeys(initial, 1000);
      expect(rotated.keys).toHaveLength(4);
      expect(rotated.keys.slice(0, 2).every((key) => key.retired_at === undefined)).toBe(true);
      expect(rotated.keys.slice(2)).toEqual(
        initial.keys.map((key) => ({ ...key, retired_at: 1000 })),
      );
    });

    it('drops retired keys once every token they signed has expired', () => {
      const once = rotateSigningKeys(initial, 1000, 600);
      expect(kids(rotateSigningKeys(once, 1600, 600))).toEqual(
        expect.arrayContaining(kids(initial)),
      );
      expect(kids(rotateSigningKeys(once, 1601, 600))).not.toEqual(
        expect.arrayContaining(kids(initial)),
      );
      expect(rotateSigningKeys(once, 1601, 600).keys).toHaveLength(4);
    });
  });

  it('hands oidc-provider current keys first and without our bookkeeping', () => {
    const rotated = rotateSigningKeys(generateSigningKeySet(), 1000);
    const reordered = { keys: [...rotated.keys].reverse() };
    const { keys } = toProviderJwks(reordered);
    expect(keys.slice(0, 2).map((key) => key.kid)).toEqual(
      expect.arrayContaining(kids(rotated).slice(0, 2)),
    );
    expect(keys.every((key) => !('retired_at' in key))).toBe(true);
  });

  describe(loadSigningKeys.name, () => {
    const file = join(
      mkdtempSync(join(tmpdir(), 'auth-server-keys-')),
      'keys',
      'signing-keys.json',
    );

    it('refuses to start without keys when it may not generate them (production)', () => {
      expect(() => loadSigningKeys(file, { generate: false })).toThrow(/ENOENT/);
    });

    it('generates the keys once, readable by their owner only', () => {
      const first = loadSigningKeys(file, { generate: true });
      expect(loadSigningKeys(file, { generate: true })).toEqual(first);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first);
    });
  });
});
