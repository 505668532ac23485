import { generateKeyPairSync, hash, randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DpopNonces } from './dpop-nonce';
import {
  DpopError,
  DpopProofVerifier,
  jwkThumbprint,
  MemoryReplayCache,
  RedisReplayCache,
} from './dpop-proof.verifier';
import type { DpopRequest, RedisSetNx } from './dpop-proof.verifier';

const URL_ORDERS = 'https://api.acme.example/api/orders';
const ACCESS_TOKEN = 'eyJ.access.token';

interface Holder {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
  jkt: string;
}

function holder(): Holder {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { privateKey, jwk, jkt: jwkThumbprint(jwk) };
}

/** A proof signed by `by`; `claims` and `header` override the well-formed defaults. */
function proof(
  by: Holder,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  return jwt.sign(
    {
      jti: randomUUID(),
      htm: 'GET',
      htu: URL_ORDERS,
      iat: Math.floor(Date.now() / 1000),
      ath: hash('sha256', ACCESS_TOKEN, 'base64url'),
      ...claims,
    },
    by.privateKey,
    {
      algorithm: 'ES256',
      // jsonwebtoken's header type has no `jwk`; a DPoP proof carries its public key there.
      header: { alg: 'ES256', typ: 'dpop+jwt', jwk: by.jwk, ...header } as jwt.JwtHeader,
    },
  );
}

async function refusal(run: Promise<unknown>): Promise<DpopError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof DpopError) return error;
    throw error;
  }
  throw new Error('the proof was accepted');
}

describe(DpopProofVerifier.name, () => {
  const alice = holder();
  const mallory = holder();
  const verifier = () =>
    new DpopProofVerifier({
      algorithms: ['ES256', 'RS256'],
      maxAgeSec: 60,
      clockToleranceSec: 5,
      replayCache: new MemoryReplayCache(),
    });
  const request = (overrides: Partial<DpopRequest>): DpopRequest => ({
    proof: proof(alice),
    method: 'GET',
    url: URL_ORDERS,
    accessToken: ACCESS_TOKEN,
    boundJkt: alice.jkt,
    ...overrides,
  });

  it('accepts a fresh proof by the key the token is bound to, ignoring the query', async () => {
    await expect(
      verifier().verify(request({ url: `${URL_ORDERS}?limit=10#top` })),
    ).resolves.toEqual({});
  });

  it('refuses a proof replayed (same jti), within one replica and across replicas', async () => {
    const shared = new MemoryReplayCache();
    const one = new DpopProofVerifier({
      algorithms: ['ES256'],
      maxAgeSec: 60,
      clockToleranceSec: 5,
      replayCache: shared,
    });
    const other = new DpopProofVerifier({
      algorithms: ['ES256'],
      maxAgeSec: 60,
      clockToleranceSec: 5,
      replayCache: shared,
    });
    const sent = request({});

    await one.verify(sent);
    expect(await refusal(one.verify(sent))).toMatchObject({
      code: 'invalid_dpop_proof',
      message: 'the proof was used before',
    });
    expect((await refusal(other.verify(sent))).message).toBe('the proof was used before');
  });

  it.each([
    [
      'for another URL',
      { url: 'https://api.acme.example/api/admin/orders' },
      'the proof is for another URL',
    ],
    [
      'for another origin',
      { url: 'https://evil.example/api/orders' },
      'the proof is for another URL',
    ],
    ['for another method', { method: 'POST' }, 'the proof is for another method'],
    [
      'for another access token',
      { accessToken: 'eyJ.other.token' },
      'the proof is for another access token (ath)',
    ],
  ])('refuses a proof %s with invalid_dpop_proof', async (_case, overrides, message) => {
    expect(await refusal(verifier().verify(request(overrides)))).toMatchObject({
      code: 'invalid_dpop_proof',
      message,
    });
  });

  it.each([
    ['stale', { iat: Math.floor(Date.now() / 1000) - 120 }, 'the proof is too old'],
    [
      'from the future',
      { iat: Math.floor(Date.now() / 1000) + 60 },
      'the proof has no iat, or one in the future',
    ],
    ['without ath', { ath: undefined }, 'the proof is for another access token (ath)'],
    ['without jti', { jti: undefined }, 'the proof has no valid jti'],
  ])('refuses a proof %s', async (_case, claims, message) => {
    expect(
      await refusal(verifier().verify(request({ proof: proof(alice, claims) }))),
    ).toMatchObject({ code: 'invalid_dpop_proof', message });
  });

  it("refuses with invalid_token a token bound to another key than the proof's", async () => {
    expect(
      await refusal(verifier().verify(request({ proof: proof(mallory), boundJkt: alice.jkt }))),
    ).toMatchObject({ code: 'invalid_token', message: 'the access token is bound to another key' });
  });

  it('refuses a proof whose signature is not by its embedded key', async () => {
    const forged = proof(mallory, {}, { jwk: alice.jwk });

    expect((await refusal(verifier().verify(request({ proof: forged })))).message).toBe(
      'the proof signature does not verify',
    );
  });

  it.each([
    ['another typ', { typ: 'JWT' }, 'the proof is not typ dpop+jwt'],
    ['no jwk', { jwk: undefined }, 'the proof carries no jwk'],
  ])('refuses a proof with %s', async (_case, header, message) => {
    expect(
      (await refusal(verifier().verify(request({ proof: proof(alice, {}, header) })))).message,
    ).toBe(message);
  });

  it('refuses a private key in the jwk, and a symmetric or unsigned proof', async () => {
    const withPrivate = proof(
      alice,
      {},
      {
        jwk: alice.privateKey.export({ format: 'jwk' }),
      },
    );
    const symmetric = jwt.sign({ htm: 'GET' }, 'secret', {
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: 'dpop+jwt', jwk: alice.jwk } as jwt.JwtHeader,
    });
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: alice.jwk })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;

    expect((await refusal(verifier().verify(request({ proof: withPrivate })))).message).toBe(
      "the proof's jwk carries a private key",
    );
    for (const bad of [symmetric, unsigned]) {
      expect((await refusal(verifier().verify(request({ proof: bad })))).message).toMatch(
        /^proof algorithm (HS256|none) is not accepted$/,
      );
    }
  });

  it('does not spend the jti of a refused proof', async () => {
    const checker = verifier();
    const sent = proof(alice);

    await refusal(checker.verify(request({ proof: sent, method: 'POST' })));
    await expect(checker.verify(request({ proof: sent }))).resolves.toEqual({});
  });
});

describe(`${DpopProofVerifier.name} with server nonces`, () => {
  const alice = holder();
  const nonces = new DpopNonces(randomBytes(32), 60);
  const verifier = new DpopProofVerifier({
    algorithms: ['ES256'],
    maxAgeSec: 60,
    clockToleranceSec: 5,
    replayCache: new MemoryReplayCache(),
    nonces,
  });
  const request = (claims: Record<string, unknown>): DpopRequest => ({
    proof: proof(alice, claims),
    method: 'GET',
    url: URL_ORDERS,
    accessToken: ACCESS_TOKEN,
    boundJkt: alice.jkt,
  });

  it('refuses a proof without a nonce with use_dpop_nonce and the nonce to retry with', async () => {
    const refused = await refusal(verifier.verify(request({})));
    expect(refused).toMatchObject({
      code: 'use_dpop_nonce',
      message: 'a server nonce is required',
    });
    expect(nonces.check(refused.nonce)).toBe('current');
  });

  it('refuses an unknown or expired nonce the same way', async () => {
    const expired = nonces.current(Date.now() - 120_000);
    for (const nonce of ['made-up', expired]) {
      const refused = await refusal(verifier.verify(request({ nonce })));
      expect(refused).toMatchObject({
        code: 'use_dpop_nonce',
        message: 'the nonce is stale or unknown',
      });
      expect(refused.nonce).toBe(nonces.current());
    }
  });

  it('accepts its current nonce, and hands out the next one when the proof carries the previous', async () => {
    await expect(verifier.verify(request({ nonce: nonces.current() }))).resolves.toEqual({});
    const previous = nonces.current(Date.now() - 60_000);
    await expect(verifier.verify(request({ nonce: previous }))).resolves.toEqual({
      nextNonce: nonces.current(),
    });
  });

  it('does not spend the jti of a proof refused for its nonce', async () => {
    const jti = randomUUID();
    await refusal(verifier.verify(request({ jti })));
    await expect(verifier.verify(request({ jti, nonce: nonces.current() }))).resolves.toEqual({});
  });
});

describe(jwkThumbprint.name, () => {
  it('matches the example of RFC 7638 3.1', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };

    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe(RedisReplayCache.name, () => {
  it('asks Redis to set the key only if absent, for the window, under its prefix', async () => {
    const calls: unknown[][] = [];
    let stored = false;
    const redis: RedisSetNx = {
      set: (...args) => {
        calls.push(args);
        const first = !stored;
        stored = true;
        return Promise.resolve(first ? 'OK' : null);
      },
      ping: () => Promise.resolve('PONG'),
      quit: () => Promise.resolve('OK'),
    };
    const cache = new RedisReplayCache(redis);

    await expect(cache.firstUse('jkt:jti-1', 70_000)).resolves.toBe(true);
    await expect(cache.firstUse('jkt:jti-1', 70_000)).resolves.toBe(false);
    expect(calls[0]).toEqual(['dpop:jti:jkt:jti-1', '1', 'PX', 70_000, 'NX']);
  });

  it('is ready once Redis has answered a ping, and stays ready through a later outage', async () => {
    let reachable = false;
    const pings: string[] = [];
    const redis: RedisSetNx = {
      set: () => Promise.reject(new Error('not used')),
      ping: () => {
        pings.push('PING');
        return reachable ? Promise.resolve('PONG') : Promise.reject(new Error('connection closed'));
      },
      quit: () => Promise.resolve('OK'),
    };
    const cache = new RedisReplayCache(redis);

    await expect(cache.ready()).resolves.toBe(false);
    reachable = true;
    await expect(cache.ready()).resolves.toBe(true);
    reachable = false;
    await expect(cache.ready()).resolves.toBe(true);
    expect(pings).toHaveLength(2);
  });
});
