import { createPrivateKey, generateKeyPairSync, hash, randomUUID } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { jwkThumbprint } from '../token/dpop-proof.verifier';

/** A client's DPoP key pair (ES256): its tokens are bound to the public key's thumbprint. */
export interface DpopKey {
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

/** A fresh P-256 key for DPoP proofs. */
export function createDpopKey(): DpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) };
}

/** A DPoP key saved as a private JWK (`createDpopKey().privateKey.export({ format: 'jwk' })`). */
export function dpopKeyFromJwk(privateJwk: JsonWebKey): DpopKey {
  const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const publicJwk = privateKey.export({ format: 'jwk' });
  delete publicJwk.d;
  return { privateKey, publicJwk };
}

/** The thumbprint of the key's public half (RFC 7638): the `cnf.jkt` of tokens bound to it. */
export function dpopThumbprint(key: DpopKey): string {
  return jwkThumbprint(key.publicJwk as Record<string, unknown>);
}

export interface DpopProofInput {
  method: string;
  /** The URL of the request, as the client addresses it. */
  url: string;
  /** The access token sent with the proof (its hash becomes `ath`); none at the token endpoint. */
  accessToken?: string;
  /** Seconds since the epoch; now by default. */
  iat?: number;
  jti?: string;
  /** The server nonce (RFC 9449 9), from a `DPoP-Nonce` header. */
  nonce?: string;
}

/**
 * A DPoP proof (RFC 9449 4.2) for one request, signed with `key`.
 *
 * @example
 * const proof = dpopProof(key, { method: 'GET', url: 'http://localhost:3000/api/orders', accessToken });
 * fetch(url, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
 */
export function dpopProof(key: DpopKey, input: DpopProofInput): string {
  const url = new URL(input.url);
  return jwt.sign(
    {
      jti: input.jti ?? randomUUID(),
      htm: input.method,
      htu: `${url.origin}${url.pathname}`,
      iat: input.iat ?? Math.floor(Date.now() / 1000),
      ...(input.accessToken ? { ath: hash('sha256', input.accessToken, 'base64url') } : {}),
      ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
    },
    key.privateKey,
    {
      algorithm: 'ES256',
      // jsonwebtoken's header type has no `jwk`; a proof carries its public key there.
      header: { alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk } as jwt.JwtHeader,
    },
  );
}
