import { hash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDpopKey, dpopProof, loginWithPkce } from '@acme/auth/testing';
import type { DpopKey } from '@acme/auth/testing';
import { AppProcess, freePort } from '@acme/bootstrap/testing';
import { deleteKeysUnder, RedisServer, TEST_REDIS_URL, testKeyPrefix } from '@acme/edge/testing';
import { eventually } from './support/eventually';
import { request } from './support/http';
import { SecureSystem } from './support/system';

/** The origin clients address: the gateway's AUTH_DPOP_PUBLIC_ORIGIN, whatever host serves it. */
const PUBLIC_ORIGIN = 'http://api.acme.test';
const ORDERS = `${PUBLIC_ORIGIN}/api/orders`;

/**
 * DPoP (RFC 9449) at the gateway, with the real auth server binding alice's
 * token to her client's key: each request needs a fresh proof by that key,
 * for its method and URL, once; replicas share the replay cache in Redis.
 */
describe('DPoP-bound tokens at the gateway (RFC 9449)', () => {
  const prefix = testKeyPrefix();
  let system: SecureSystem;
  let replica: AppProcess;
  let key: DpopKey;
  /** alice's token, bound to `key`. */
  let bound: string;
  /** alice's token without DPoP: a bearer token. */
  let bearer: string;

  const login = (dpop?: DpopKey) =>
    loginWithPkce({
      issuer: system.issuerUrl,
      username: 'alice',
      password: 'alice',
      scope: 'openid orders:read orders:write',
      ...(dpop ? { dpop } : {}),
    });

  /** GET /api/orders at `gateway` with `authorization` and, when given, a DPoP header. */
  const listOrders = (authorization: string, proof?: string, gateway = system.gatewayUrl) =>
    request(gateway, 'GET', '/api/orders', {
      headers: { authorization, ...(proof === undefined ? {} : { dpop: proof }) },
    });
  const freshProof = (overrides: Partial<Parameters<typeof dpopProof>[1]> = {}) =>
    dpopProof(key, { method: 'GET', url: ORDERS, accessToken: bound, ...overrides });

  const invalidProof = (description: string) =>
    `DPoP error="invalid_dpop_proof", error_description="${description}", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512"`;

  /** The 401 and its DPoP challenge. */
  const challenge = (response: { status: number; headers: Headers }) => ({
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
  });

  beforeAll(async () => {
    system = new SecureSystem('auth-server', {
      env: {
        AUTH_DPOP_PUBLIC_ORIGIN: PUBLIC_ORIGIN,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
      },
    });
    await system.start();
    const port = await freePort();
    replica = new AppProcess('gateway', port, { ...system.envOf('gateway'), PORT: String(port) });
    await replica.start();
    await replica.waitUntilReady();
    key = createDpopKey();
    ({ access_token: bound } = await login(key));
    ({ access_token: bearer } = await login());
  });

  afterAll(async () => {
    await replica?.stop();
    await system?.stop();
    await deleteKeysUnder(prefix);
  });

  it("gets a token bound to the client's key from the auth server (cnf.jkt)", () => {
    const payload = JSON.parse(Buffer.from(bound.split('.')[1], 'base64url').toString()) as {
      cnf?: { jkt?: string };
    };
    const { x, y, crv, kty } = key.publicJwk;
    const thumbprint = hash('sha256', JSON.stringify({ crv, kty, x, y }), 'base64url');

    expect(payload.cnf).toEqual({ jkt: thumbprint });
  });

  it('gives the web client DPoP-bound tokens only: a code redeemed without a proof is refused', async () => {
    const web = {
      issuer: system.issuerUrl,
      username: 'alice',
      password: 'alice',
      scope: 'openid orders:read',
      clientId: 'web',
      redirectUri: 'http://localhost:4200/callback',
    };

    await expect(loginWithPkce(web)).rejects.toThrow('Token request failed: invalid_grant');
    const { access_token: token } = await loginWithPkce({ ...web, dpop: key });
    expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())).toMatchObject({
      cnf: { jkt: expect.any(String) },
    });
  });

  it('serves requests with the DPoP scheme and a fresh proof by that key each', async () => {
    const created = await request<{ id: string }>(system.gatewayUrl, 'POST', '/api/orders', {
      headers: {
        authorization: `DPoP ${bound}`,
        dpop: freshProof({ method: 'POST' }),
      },
      body: { items: [{ sku: 'book-1', quantity: 1 }] },
    });
    expect(created.status).toBe(201);

    const listed = await listOrders(`DPoP ${bound}`, freshProof());
    expect(listed).toMatchObject({ status: 200, body: { items: [{ id: created.body.id }] } });
  });

  it('still serves a token bound to nothing as a bearer token (AUTH_DPOP=allowed)', async () => {
    expect((await listOrders(`Bearer ${bearer}`)).status).toBe(200);
    const anonymous = await request(system.gatewayUrl, 'GET', '/api/orders');
    expect(anonymous.headers.get('www-authenticate')).toBe(
      'Bearer, DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512"',
    );
  });

  it("requires DPoP by default: a gateway left to its defaults refuses alice's bearer token", async () => {
    const { AUTH_DPOP: _, ...defaults } = system.envOf('gateway');
    const port = await freePort();
    const gateway = new AppProcess('gateway', port, { ...defaults, PORT: String(port) });
    await gateway.start();
    await gateway.waitUntilReady();
    try {
      const url = `http://127.0.0.1:${port}`;
      const anonymous = await request(url, 'GET', '/api/orders');
      expect(challenge(anonymous)).toEqual({
        status: 401,
        challenge: 'DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512"',
      });
      expect(challenge(await listOrders(`Bearer ${bearer}`, undefined, url))).toEqual({
        status: 401,
        challenge:
          'DPoP error="invalid_token", error_description="a DPoP-bound token is required", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512"',
      });
      expect((await listOrders(`DPoP ${bound}`, freshProof(), url)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  it('is not ready until its replay cache (Redis) has answered once: until then no proof can be checked', async () => {
    const redis = await RedisServer.start();
    await redis.stop();
    const port = await freePort();
    const gateway = new AppProcess('gateway', port, {
      ...system.envOf('gateway'),
      PORT: String(port),
      REDIS_URL: redis.url,
    });
    await gateway.start();
    try {
      const url = `http://127.0.0.1:${port}`;
      const notReady = await request(url, 'GET', '/readyz');
      expect(notReady).toMatchObject({
        status: 503,
        body: {
          error: {
            dpopReplayCache: { status: 'down', message: 'has not answered since start-up' },
          },
        },
      });
      expect(challenge(await listOrders(`DPoP ${bound}`, freshProof(), url))).toEqual({
        status: 401,
        challenge: invalidProof('the proof cannot be checked now; retry'),
      });

      await redis.restart();
      await gateway.waitUntilReady();
      expect((await listOrders(`DPoP ${bound}`, freshProof(), url)).status).toBe(200);

      // A later outage fails the proofs, not readiness: public routes and bearer tokens still work.
      await redis.stop();
      expect((await request(url, 'GET', '/readyz')).status).toBe(200);
      expect(challenge(await listOrders(`DPoP ${bound}`, freshProof(), url))).toEqual({
        status: 401,
        challenge: invalidProof('the proof cannot be checked now; retry'),
      });

      await redis.restart();
      const checkedAgain = await eventually(
        () => listOrders(`DPoP ${bound}`, freshProof(), url),
        (answer) => answer.status === 200,
        10_000,
      );
      expect(checkedAgain.status).toBe(200);
    } finally {
      await gateway.stop();
      await redis.stop();
    }
  });

  describe('refuses with the RFC 9449 error', () => {
    const invalidToken = (description: string) =>
      `DPoP error="invalid_token", error_description="${description}", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512"`;

    it('a proof replayed at the same gateway', async () => {
      const proof = freshProof();
      expect((await listOrders(`DPoP ${bound}`, proof)).status).toBe(200);

      expect(challenge(await listOrders(`DPoP ${bound}`, proof))).toEqual({
        status: 401,
        challenge: invalidProof('the proof was used before'),
      });
    });

    it('a proof replayed at another replica (the replay cache is shared through Redis)', async () => {
      const proof = freshProof();
      expect((await listOrders(`DPoP ${bound}`, proof)).status).toBe(200);

      expect(
        challenge(await listOrders(`DPoP ${bound}`, proof, `http://127.0.0.1:${replica.port}`)),
      ).toEqual({ status: 401, challenge: invalidProof('the proof was used before') });
    });

    it('a proof for another URL', async () => {
      const proof = freshProof({ url: `${PUBLIC_ORIGIN}/api/admin/orders` });

      expect(challenge(await listOrders(`DPoP ${bound}`, proof))).toEqual({
        status: 401,
        challenge: invalidProof('the proof is for another URL'),
      });
    });

    it('a proof for another method', async () => {
      expect(challenge(await listOrders(`DPoP ${bound}`, freshProof({ method: 'POST' })))).toEqual({
        status: 401,
        challenge: invalidProof('the proof is for another method'),
      });
    });

    it('a stale proof', async () => {
      const proof = freshProof({ iat: Math.floor(Date.now() / 1000) - 600 });

      expect(challenge(await listOrders(`DPoP ${bound}`, proof))).toEqual({
        status: 401,
        challenge: invalidProof('the proof is too old'),
      });
    });

    it('a proof without ath, or made for another token', async () => {
      for (const accessToken of [undefined, bearer]) {
        const proof = dpopProof(key, { method: 'GET', url: ORDERS, accessToken });
        expect(challenge(await listOrders(`DPoP ${bound}`, proof))).toEqual({
          status: 401,
          challenge: invalidProof('the proof is for another access token (ath)'),
        });
      }
    });

    it("a proof by another key than the token's (a stolen token)", async () => {
      const thief = createDpopKey();
      const proof = dpopProof(thief, { method: 'GET', url: ORDERS, accessToken: bound });

      expect(challenge(await listOrders(`DPoP ${bound}`, proof))).toEqual({
        status: 401,
        challenge: invalidToken('the access token is bound to another key'),
      });
    });

    it('a DPoP-bound token sent as a bearer token, with or without a proof', async () => {
      for (const proof of [undefined, freshProof()]) {
        const response = await listOrders(`Bearer ${bound}`, proof);
        expect(challenge(response)).toEqual({
          status: 401,
          challenge: invalidToken('a DPoP-bound token must come with the DPoP scheme'),
        });
        expect(response.body).toMatchObject({ error: 'invalid_token' });
      }
    });

    it('a DPoP-bound token without a proof', async () => {
      expect(challenge(await listOrders(`DPoP ${bound}`))).toEqual({
        status: 401,
        challenge: invalidProof('one DPoP proof header is required'),
      });
    });

    it('a bearer token sent with the DPoP scheme', async () => {
      const proof = dpopProof(key, { method: 'GET', url: ORDERS, accessToken: bearer });

      expect(challenge(await listOrders(`DPoP ${bearer}`, proof))).toEqual({
        status: 401,
        challenge: invalidToken('the token is not DPoP-bound'),
      });
    });
  });

  /**
   * Server nonces (RFC 9449 9), on two more replicas that share the nonce
   * secret: a proof must carry a nonce one of them handed out recently.
   */
  describe('with AUTH_DPOP_NONCE=true', () => {
    const secret = 'e2e-dpop-nonce-secret-shared-by-the-replicas';
    const withNonces: AppProcess[] = [];
    const urlOf = (gateway: AppProcess) => `http://127.0.0.1:${gateway.port}`;

    const nonceChallenge = (description: string) =>
      `DPoP error="use_dpop_nonce", error_description="${description}", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512"`;

    const secrets = mkdtempSync(join(tmpdir(), 'dpop-nonce-e2e-'));

    beforeAll(async () => {
      for (const [i, nonceSecret] of [
        secret,
        secret,
        'another-secret-of-another-deployment-000',
      ].entries()) {
        const secretFile = join(secrets, `nonce-secret-${i}`);
        writeFileSync(secretFile, nonceSecret, { mode: 0o600 });
        const port = await freePort();
        const gateway = new AppProcess('gateway', port, {
          ...system.envOf('gateway'),
          PORT: String(port),
          AUTH_DPOP_NONCE: 'true',
          AUTH_DPOP_NONCE_SECRET_FILE: secretFile,
        });
        withNonces.push(gateway);
        await gateway.start();
      }
    });

    afterAll(async () => {
      await Promise.all(withNonces.map((gateway) => gateway.stop()));
      rmSync(secrets, { recursive: true, force: true });
    });

    it('answers a proof without a nonce with use_dpop_nonce and the nonce to retry with', async () => {
      const [first] = withNonces;
      const refused = await listOrders(`DPoP ${bound}`, freshProof(), urlOf(first));
      expect(challenge(refused)).toEqual({
        status: 401,
        challenge: nonceChallenge('a server nonce is required'),
      });
      const nonce = refused.headers.get('dpop-nonce');
      expect(nonce).toEqual(expect.any(String));

      const retried = await listOrders(
        `DPoP ${bound}`,
        freshProof({ nonce: nonce ?? '' }),
        urlOf(first),
      );
      expect(retried.status).toBe(200);
    });

    it("takes a nonce at every replica with the same secret, and refuses another deployment's", async () => {
      const [first, second, foreign] = withNonces;
      const nonce =
        (await listOrders(`DPoP ${bound}`, freshProof(), urlOf(first))).headers.get('dpop-nonce') ??
        '';

      expect((await listOrders(`DPoP ${bound}`, freshProof({ nonce }), urlOf(second))).status).toBe(
        200,
      );
      const refused = await listOrders(`DPoP ${bound}`, freshProof({ nonce }), urlOf(foreign));
      expect(challenge(refused)).toEqual({
        status: 401,
        challenge: nonceChallenge('the nonce is stale or unknown'),
      });
      expect(refused.headers.get('dpop-nonce')).not.toBe(nonce);
    });

    it('refuses a made-up nonce, and never asks for one from a token bound to nothing', async () => {
      const [first] = withNonces;
      expect(
        challenge(
          await listOrders(`DPoP ${bound}`, freshProof({ nonce: 'made-up' }), urlOf(first)),
        ),
      ).toEqual({ status: 401, challenge: nonceChallenge('the nonce is stale or unknown') });
      expect((await listOrders(`Bearer ${bearer}`, undefined, urlOf(first))).status).toBe(200);
    });
  });
});
