import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { InvalidTokenError } from './invalid-token.error';
import { JwksCache } from './jwks.cache';
import type { JwksCacheOptions } from './jwks.cache';

const realNow = Date.now.bind(Date);
let clockOffsetMs = 0;

/** Moves `Date.now()` forward for the code under test; sockets and timers keep real time. */
function advanceClock(ms: number): void {
  clockOffsetMs += ms;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clockOffsetMs);
}

/**
 * An issuer whose discovery document and JWKS each test sets, and which can
 * go down: while `up` is false every connection is dropped unanswered; while
 * `failing` it answers every request (counted) with 503.
 */
class ControlledIssuer {
  up = true;
  failing = false;
  discovery: Record<string, unknown>;
  jwks: { keys: Record<string, unknown>[] } = { keys: [] };
  jwksRequests = 0;
  failedRequests = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    this.discovery = { issuer: url, jwks_uri: `${url}/jwks` };
    server.on('request', (request, response) => {
      if (!this.up) return request.socket.destroy();
      if (this.failing) {
        this.failedRequests++;
        response.writeHead(503).end();
        return;
      }
      if (request.url === '/jwks') this.jwksRequests++;
      const body = { '/.well-known/openid-configuration': this.discovery, '/jwks': this.jwks }[
        request.url ?? ''
      ];
      response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body ?? { error: 'not_found' }));
    });
  }

  static async start(): Promise<ControlledIssuer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ControlledIssuer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A P-256 key as a JWK; `withPrivatePart` includes `d`, as a careless issuer might publish it. */
function ecJwk(
  kid: string,
  extra: Record<string, unknown> = {},
  withPrivatePart = false,
): Record<string, unknown> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = (withPrivatePart ? privateKey : publicKey).export({ format: 'jwk' });
  return { ...jwk, kid, alg: 'ES256', use: 'sig', ...extra };
}

/** Awaits a key lookup that must fail, and returns the reason given. */
async function refusal(lookup: Promise<unknown>): Promise<string> {
  const error = await lookup.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).message;
}

describe(JwksCache.name, () => {
  let issuer: ControlledIssuer;
  let warnings: jest.SpyInstance;

  function createCache(overrides: Partial<JwksCacheOptions> = {}): JwksCache {
    return new JwksCache({
      issuer: issuer.url,
      cooldownMs: 5_000,
      maxAgeMs: 60_000,
      timeoutMs: 2_000,
      ...overrides,
    });
  }

  beforeEach(async () => {
    issuer = await ControlledIssuer.start();
    issuer.jwks = { keys: [ecJwk('key-1')] };
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    clockOffsetMs = 0;
    jest.restoreAllMocks();
    await issuer.stop();
  });

  it('finds the JWKS through discovery and returns the key a kid names', async () => {
    const { key, alg } = await createCache().getKey('key-1');

    expect(key.asymmetricKeyType).toBe('ec');
    expect(alg).toBe('ES256');
  });

  it('shares one JWKS request among concurrent lookups', async () => {
    const cache = createCache();

    await Promise.all(Array.from({ length: 10 }, () => cache.getKey('key-1')));

    expect(issuer.jwksRequests).toBe(1);
  });

  it('lets lookups that arrive during a refetch for a new kid wait for it, rather than refuse them', async () => {
    const cache = createCache();
    await cache.getKey('key-1');
    issuer.jwks = { keys: [ecJwk('key-2')] };
    advanceClock(5_000);

    await expect(
      Promise.all(Array.from({ length: 5 }, () => cache.getKey('key-2'))),
    ).resolves.toHaveLength(5);
    expect(issuer.jwksRequests).toBe(2);
  });

  it('refuses a discovery document that names another issuer, and never fetches its JWKS', async () => {
    issuer.discovery = { ...issuer.discovery, issuer: 'https://login.example' };

    expect(await refusal(createCache().getKey('key-1'))).toBe('issuer keys unavailable');
    expect(issuer.jwksRequests).toBe(0);
    expect(warnings).toHaveBeenCalledWith(
      expect.stringContaining('discovery names issuer https://login.example'),
    );
  });

  it('keeps only asymmetric public keys published for signatures', async () => {
    issuer.jwks = {
      keys: [
        { kty: 'oct', kid: 'hmac', k: randomBytes(32).toString('base64url'), alg: 'HS256' },
        ecJwk('encryption', { use: 'enc', alg: 'ECDH-ES' }),
        ecJwk('no-use', { use: undefined }),
        ecJwk('careless', {}, true),
      ],
    };
    const cache = createCache();

    expect(await refusal(cache.getKey('hmac'))).toBe('unknown signing key');
    expect(await refusal(cache.getKey('encryption'))).toBe('unknown signing key');
    await expect(cache.getKey('no-use')).resolves.toBeDefined();
    expect((await cache.getKey('careless')).key.type).toBe('public');
    expect(cache.size).toBe(2);
  });

  it('answers "issuer keys unavailable" while the issuer has never answered, and recovers once it does', async () => {
    issuer.up = false;
    const cache = createCache();

    expect(await refusal(cache.getKey('key-1'))).toBe('issuer keys unavailable');

    issuer.up = true;
    // Until the first answer, retries are limited to one per second.
    expect(await refusal(cache.getKey('key-1'))).toBe('issuer keys unavailable');
    advanceClock(1_000);
    await expect(cache.getKey('key-1')).resolves.toBeDefined();
  });

  it('keeps using the last keys when the issuer goes down after a successful fetch', async () => {
    const cache = createCache({ maxAgeMs: 1_000 });
    await cache.getKey('key-1');

    issuer.up = false;
    advanceClock(10_000);

    await expect(cache.getKey('key-1')).resolves.toBeDefined();
    await cache.refresh(); // joins the background refresh, which fails
    await expect(cache.getKey('key-1')).resolves.toBeDefined();
    expect(await refusal(cache.getKey('key-2'))).toBe('unknown signing key');
    expect(warnings).toHaveBeenCalledWith(
      expect.stringContaining(`cannot refresh the keys of ${issuer.url}`),
    );
  });

  it('refreshes keys older than maxAgeMs in the background, serving the cached key meanwhile', async () => {
    const cache = createCache({ maxAgeMs: 1_000 });
    await cache.getKey('key-1');
    issuer.jwks = { keys: [...issuer.jwks.keys, ecJwk('key-2')] };

    advanceClock(1_000);
    await expect(cache.getKey('key-1')).resolves.toBeDefined();
    await cache.refresh(); // joins the background refresh in flight

    await expect(cache.getKey('key-2')).resolves.toBeDefined();
    expect(issuer.jwksRequests).toBe(2);
  });

  describe('while the issuer fails', () => {
    /** A lookup of a cached key, and the background refresh it may start, settled. */
    async function lookUpAndSettle(cache: JwksCache): Promise<void> {
      await cache.getKey('key-1');
      await cache.refresh();
    }

    it('retries stale keys after 1 s, 2 s, 4 s ... up to the cooldown, however many lookups arrive', async () => {
      const cache = createCache({ maxAgeMs: 1_000, cooldownMs: 8_000 });
      await cache.getKey('key-1');
      issuer.failing = true;
      advanceClock(1_000);

      // Every lookup in between, concurrent or not, finds the issuer backing off.
      await Promise.all(Array.from({ length: 20 }, () => lookUpAndSettle(cache)));
      for (let lookup = 0; lookup < 20; lookup++) await lookUpAndSettle(cache);
      expect(issuer.failedRequests).toBe(1);

      let expected = 1;
      for (const ceilingMs of [1_000, 2_000, 4_000, 8_000, 8_000]) {
        // The delay is drawn from the upper half of the ceiling: nothing before it, one fetch at it.
        advanceClock(ceilingMs / 2 - 10);
        await lookUpAndSettle(cache);
        expect(issuer.failedRequests).toBe(expected);
        advanceClock(ceilingMs / 2 + 10);
        await lookUpAndSettle(cache);
        expect(issuer.failedRequests).toBe(++expected);
      }
    });

    it('makes readiness probes and unknown kids wait for the same backoff before the first answer', async () => {
      issuer.failing = true;
      const cache = createCache();

      for (let probe = 0; probe < 10; probe++) {
        await cache.refresh();
        expect(await refusal(cache.getKey(`kid-${probe}`))).toBe('issuer keys unavailable');
      }
      expect(issuer.failedRequests).toBe(1);

      issuer.failing = false;
      advanceClock(1_000);
      await cache.refresh();
      expect(cache.size).toBe(1);
    });

    it('starts again from 1 s after the issuer has answered', async () => {
      const cache = createCache({ maxAgeMs: 1_000, cooldownMs: 8_000 });
      await cache.getKey('key-1');
      issuer.failing = true;
      for (const ceilingMs of [1_000, 1_000, 2_000, 4_000]) {
        advanceClock(ceilingMs);
        await lookUpAndSettle(cache);
      }
      expect(issuer.failedRequests).toBe(4);

      issuer.failing = false;
      advanceClock(8_000);
      await lookUpAndSettle(cache);
      expect(issuer.jwksRequests).toBe(2);

      issuer.failing = true;
      advanceClock(1_000);
      await lookUpAndSettle(cache);
      advanceClock(1_000);
      await lookUpAndSettle(cache);
      expect(issuer.failedRequests).toBe(6);
    });
  });
});
