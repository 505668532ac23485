import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MAX_SIGNED_TOKEN_TTL } from '../config';
import { readOrCreateSecretFile, writeSecretFile } from './secret-files';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * A private JWK as stored in the key file. `retired_at` (seconds since the epoch, a member of our own
 * that RFC 7517 lets readers ignore) marks a previous key: no longer signing, still published.
 */
const storedKeySchema = z.looseObject({
  kty: z.enum(['EC', 'RSA']),
  kid: z.string().min(1),
  alg: z.enum(SIGNING_ALGS),
  use: z.literal('sig').optional(),
  d: z.string().min(1, 'private keys only'),
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

/**
 * Adds new current keys and retires the current ones, which stay published until every token they
 * signed has expired (`retention` seconds); keys retired longer ago than that are dropped.
 */
export function rotateSigningKeys(
  set: SigningKeySet,
  at = now(),
  retention = MAX_SIGNED_TOKEN_TTL,
): SigningKeySet {
  const published = set.keys
    .filter((key) => key.retired_at === undefined || at - key.retired_at <= retention)
    .map((key) => ({ ...key, retired_at: key.retired_at ?? at }));
  return { keys: [...generateSigningKeySet().keys, ...published] };
}

/**
 * The keys in the form oidc-provider takes: current keys first, because it signs with the first key
 * of an algorithm, and without our `retired_at` member.
 */
export function toProviderJwks(set: SigningKeySet): SigningKeySet {
  const current = set.keys.filter((key) => key.retired_at === undefined);
  const retired = set.keys.filter((key) => key.retired_at !== undefined);
  const withoutBookkeeping = ({ ...jwk }: StoredSigningKey): StoredSigningKey => {
    delete jwk.retired_at;
    return jwk;
  };
  return { keys: [...current, ...retired].map(withoutBookkeeping) };
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
export function rotateSigningKeyFile(file: string, at = now()): SigningKeySet {
  const rotated = rotateSigningKeys(parseSigningKeySet(readFileSync(file, 'utf8'), file), at);
  writeSecretFile(file, JSON.stringify(rotated, null, 2));
  return rotated;
}
