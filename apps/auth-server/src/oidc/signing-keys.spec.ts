import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateSigningKeySet,
  loadSigningKeys,
  rotateSigningKeys,
  signingKeyAt,
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

    it('publishes next keys that sign only after the activation delay, when the current ones retire', () => {
      const rotated = rotateSigningKeys(initial, 600, 1000);
      expect(rotated.keys).toHaveLength(4);
      expect(rotated.keys.slice(0, 2).map((key) => key.activates_at)).toEqual([1600, 1600]);
      expect(rotated.keys.slice(2)).toEqual(
        initial.keys.map((key) => ({ ...key, retired_at: 1600 })),
      );

      for (const alg of ['ES256', 'RS256'] as const) {
        const [current, next] = [initial, rotated].map(
          (set) => set.keys.find((key) => key.alg === alg)?.kid,
        );
        expect(signingKeyAt(rotated, alg, 1000)?.kid).toBe(current);
        expect(signingKeyAt(rotated, alg, 1599)?.kid).toBe(current);
        expect(signingKeyAt(rotated, alg, 1600)?.kid).toBe(next);
      }
    });

    it('refuses to rotate again before the next keys sign', () => {
      const rotated = rotateSigningKeys(initial, 600, 1000);
      expect(() => rotateSigningKeys(rotated, 600, 1599)).toThrow(
        'A rotation is under way: its keys sign from 1970-01-01T00:26:40.000Z',
      );
      expect(rotateSigningKeys(rotated, 600, 1600).keys).toHaveLength(6);
    });

    it('drops retired keys once every token they signed has expired', () => {
      const once = rotateSigningKeys(initial, 0, 1000, 600);
      const twice = rotateSigningKeys(once, 0, 1200, 600);
      expect(kids(rotateSigningKeys(twice, 0, 1600, 600))).toEqual(
        expect.arrayContaining(kids(initial)),
      );
      expect(kids(rotateSigningKeys(twice, 0, 1601, 600))).not.toEqual(
        expect.arrayContaining(kids(initial)),
      );
      // Next, current and the latest retired generation.
      expect(rotateSigningKeys(twice, 0, 1601, 600).keys).toHaveLength(6);
    });

    it('keeps the latest retired keys through the next rotation, for ID tokens of older processes', () => {
      const once = rotateSigningKeys(initial, 0, 1000, 600);
      const twice = rotateSigningKeys(once, 0, 5000, 600);
      expect(kids(twice)).toEqual(expect.arrayContaining(kids(initial)));
      expect(kids(rotateSigningKeys(twice, 0, 9000, 600))).not.toEqual(
        expect.arrayContaining(kids(initial)),
      );
    });
  });

  it('hands oidc-provider the keys signing at that time first, without our bookkeeping', () => {
    const initial = generateSigningKeySet();
    const rotated = rotateSigningKeys(initial, 600, 1000);
    const reordered = { keys: [...rotated.keys].reverse() };

    const firstTwo = (at: number) =>
      toProviderJwks(reordered, at)
        .keys.slice(0, 2)
        .map((key) => key.kid);
    expect(firstTwo(1000)).toEqual(expect.arrayContaining(kids(initial)));
    expect(firstTwo(1600)).toEqual(expect.arrayContaining(kids(rotated).slice(0, 2)));
    expect(
      toProviderJwks(reordered, 1000).keys.every(
        (key) => !('retired_at' in key) && !('activates_at' in key),
      ),
    ).toBe(true);
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
