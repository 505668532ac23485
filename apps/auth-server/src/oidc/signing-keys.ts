import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MAX_SIGNED_TOKEN_TTL } from '../config';
import { readOrCreateSecretFile, writeSecretFile } from './secret-files';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * A private JWK as stored in the key file, with two members of our own that RFC 7517 lets readers
 * ignore (seconds since the epoch): `activates_at` marks a next key, published but signing only
 * from then on; `retired_at` marks a previous key, no longer signing from then on, still published.
 */
const storedKeySchema = z.looseObject({
  kty: z.enum(['EC', 'RSA']),
  kid: z.string().min(1),
  alg: z.enum(SIGNING_ALGS),
  use: z.literal('sig').optional(),
  d: z.string().min(1, 'private keys only'),
  activates_at: z.number().int().optional(),
  retired_at: z.number().int().optional(),
});
const keySetSchema = z.object({ keys: z.array(storedKeySchema).min(1) });

export type StoredSigningKey = z.infer<typeof storedKeySchema>;
export type SigningKeySet = z.infer<typeof keySetSchema>;

const now = (): number => Math.floor(Date.now() / 1000);

/** A new private key with its RFC 7638 thumbprint as `kid`. */
export function generateSigningKey(alg: SigningAlg): StoredSigningKey {
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return storedKeySchema.parse({ ...jwk, kid: thumbprint(jwk), alg, use: 'sig' });
}

function thumbprint(jwk: JsonWebKey): string {
  // RFC 7638: the required public members, in lexicographic order, without whitespace.
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** One current key per supported algorithm. */
export function generateSigningKeySet(): SigningKeySet {
  return { keys: SIGNING_ALGS.map(generateSigningKey) };
}

export type SigningKeyState = 'next' | 'current' | 'retired';

/**
 * At `at`, a `next` key is published but does not sign yet, a `current` one signs, and a `retired`
 * one is published only.
 */
export function signingKeyState(key: StoredSigningKey, at = now()): SigningKeyState {
  if (key.activates_at !== undefined && at < key.activates_at) return 'next';
  if (key.retired_at !== undefined && at >= key.retired_at) return 'retired';
  return 'current';
}

/** The key that signs tokens of `alg` at `at`, if any. */
export function signingKeyAt(
  set: SigningKeySet,
  alg: SigningAlg,
  at = now(),
): StoredSigningKey | undefined {
  return set.keys.find((key) => key.alg === alg && signingKeyState(key, at) === 'current');
}

/**
 * The first phase of a rotation, the second one happening by itself: adds next keys that are
 * published at once but sign only `activationDelay` seconds later (the time consumers may cache
 * the JWKS), when the current keys retire. A retired key stays published until every token it
 * signed has expired (`retention` seconds), and the latest retired ones until the rotation after
 * this one: a process started before they retired still signs ID tokens with them (see
 * {@link toProviderJwks}) until the restart that follows this rotation. Refuses while the next
 * keys of a previous rotation are not signing yet.
 */
export function rotateSigningKeys(
  set: SigningKeySet,
  activationDelay: number,
  at = now(),
  retention = MAX_SIGNED_TOKEN_TTL,
): SigningKeySet {
  const pending = set.keys.find((key) => signingKeyState(key, at) === 'next');
  if (pending?.activates_at !== undefined) {
    throw new Error(
      `A rotation is under way: its keys sign from ${new Date(pending.activates_at * 1000).toISOString()}; rotate again after that.`,
    );
  }
  const activatesAt = at + activationDelay;
  const latestRetirement = Math.max(...set.keys.map((key) => key.retired_at ?? -Infinity));
  const published = set.keys
    .filter(
      (key) =>
        key.retired_at === undefined ||
        key.retired_at === latestRetirement ||
        at - key.retired_at <= retention,
    )
    .map((key) => ({ ...key, retired_at: key.retired_at ?? activatesAt }));
  const next = generateSigningKeySet().keys.map((key) => ({ ...key, activates_at: activatesAt }));
  return { keys: [...next, ...published] };
}

/**
 * The keys in the form oidc-provider takes: the keys current at `at` first, because it signs ID
 * tokens with the first key of an algorithm, and without our bookkeeping members.
 */
export function toProviderJwks(set: SigningKeySet, at = now()): SigningKeySet {
  const current = set.keys.filter((key) => signingKeyState(key, at) === 'current');
  const others = set.keys.filter((key) => signingKeyState(key, at) !== 'current');
  const withoutBookkeeping = ({ ...jwk }: StoredSigningKey): StoredSigningKey => {
    delete jwk.activates_at;
    delete jwk.retired_at;
    return jwk;
  };
  return { keys: [...current, ...others].map(withoutBookkeeping) };
}

function parseSigningKeySet(json: string, file: string): SigningKeySet {
  const parsed = keySetSchema.safeParse(JSON.parse(json));
  if (!parsed.success) {
    throw new Error(`Invalid signing key file ${file}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * Reads the signing key file. Outside production a missing file is generated first, so a fresh
 * clone works without set-up.
 */
export function loadSigningKeys(file: string, { generate }: { generate: boolean }): SigningKeySet {
  const json = generate
    ? readOrCreateSecretFile(file, () => JSON.stringify(generateSigningKeySet(), null, 2))
    : readFileSync(file, 'utf8');
  return parseSigningKeySet(json, file);
}

/** Rotates the keys of a key file in place (see {@link rotateSigningKeys}). */
export function rotateSigningKeyFile(
  file: string,
  activationDelay: number,
  at = now(),
): SigningKeySet {
  const rotated = rotateSigningKeys(
    parseSigningKeySet(readFileSync(file, 'utf8'), file),
    activationDelay,
    at,
  );
  writeSecretFile(file, JSON.stringify(rotated, null, 2));
  return rotated;
}
