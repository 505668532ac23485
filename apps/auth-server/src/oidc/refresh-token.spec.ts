import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDpopKey, dpopProof } from '@acme/auth/testing';
import { loginWithPkce } from '../testing/oidc-client';
import { basicAuth, postForm } from '../testing/http';
import { deleteKeysUnder, TEST_REDIS_URL, testKeyPrefix } from '../testing/test-redis';
import { startTestServer, type TestServer } from '../testing/test-server';

describe.each([
  ['in memory', false],
  ['on Redis', true],
])('refresh tokens (%s)', (_store, onRedis) => {
  let server: TestServer;
  const WEB_ORIGIN = 'http://localhost:4200';
  const prefix = testKeyPrefix();

  beforeAll(async () => {
    server = await startTestServer(
      onRedis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {},
    );
  });
  afterAll(async () => {
    await server.close();
    await deleteKeysUnder(prefix);
  });

  /** The SPA's DPoP key: the `web` client gets DPoP-bound tokens only (RFC 9449). */
  const key = createDpopKey();

  /** Signs alice in with the SPA client, asking for a refresh token. */
  const signIn = () =>
    loginWithPkce({
      issuer: server.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid offline_access orders:read',
      clientId: 'web',
      redirectUri: `${WEB_ORIGIN}/callback`,
      dpop: key,
    });

  /** Redeems a refresh token with a proof by `by` (the SPA's key unless said otherwise). */
  const refresh = (refreshToken: string, origin = WEB_ORIGIN, by = key) =>
    fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin,
        dpop: dpopProof(by, { method: 'POST', url: `${server.issuer}/token` }),
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: refreshToken,
      }).toString(),
    });

  it('gives the web client DPoP-bound tokens only', async () => {
    const { access_token } = await signIn();
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString());
    expect(claims.cnf).toEqual({ jkt: expect.any(String) });

    await expect(
      loginWithPkce({
        issuer: server.issuer,
        username: 'alice',
        password: 'alice',
        scope: 'openid orders:read',
        clientId: 'web',
        redirectUri: `${WEB_ORIGIN}/callback`,
      }),
      // oidc-provider keeps the reason ("DPoP proof JWT not provided") out of the answer.
    ).rejects.toThrow('Token request failed: invalid_grant');
  });

  it("redeems a refresh token only with a proof by the SPA's key", async () => {
    const { refresh_token: first } = await signIn();

    const stolen = await refresh(first ?? '', WEB_ORIGIN, createDpopKey());
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await refresh(first ?? '')).status).toBe(200);
  });

  it('replaces the refresh token at every use', async () => {
    const { refresh_token: first } = await signIn();

    const response = await refresh(first ?? '');
    const body = (await response.json()) as Record<string, string>;

    expect(response.status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.refresh_token).not.toBe(first);
  });

  it('revokes the whole grant when a used refresh token comes back', async () => {
    const { refresh_token: first } = await signIn();
    const second = ((await (await refresh(first ?? '')).json()) as Record<string, string>)
      .refresh_token;

    server.audits.splice(0);
    const reuse = await refresh(first ?? '');
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: 'invalid_grant' });
    expect(server.audits).toEqual([
      {
        event: 'authn_token_reuse',
        principal: 'user:alice',
        action: 'POST /token',
        reason: 'refresh token already used: grant revoked',
        from: '127.0.0.1',
      },
    ]);
    expect(JSON.stringify(server.audits)).not.toContain(first);
    // The thief may have used the token first: the legitimate client's new token dies too.
    const afterReuse = await refresh(second);
    expect(afterReuse.status).toBe(400);
    expect(await afterReuse.json()).toMatchObject({ error: 'invalid_grant' });
  });

  // Redis is the store of several replicas; the in-memory one serves a single dev process.
  if (onRedis) {
    it('lets one of parallel redemptions of a refresh token succeed, and revokes the grant for the others', async () => {
      const { refresh_token: first } = await signIn();

      server.audits.splice(0);
      const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(first ?? '')));
      const bodies = (await Promise.all(responses.map((response) => response.json()))) as Record<
        string,
        string
      >[];

      const winners = bodies.filter((_body, i) => responses[i].status === 200);
      expect(winners).toHaveLength(1);
      for (const [i, body] of bodies.entries()) {
        if (responses[i].status !== 200) expect(body).toMatchObject({ error: 'invalid_grant' });
      }
      // A loser that came after the grant was revoked finds no grant: no reuse of its own.
      const reuses = server.audits.filter((audit) => audit.event === 'authn_token_reuse');
      expect(reuses.length).toBeGreaterThanOrEqual(1);
      expect(reuses[0]).toMatchObject({ principal: 'user:alice', action: 'POST /token' });
      // Counted as reuse: the winner's new refresh token belongs to a revoked grant.
      const afterRace = await refresh(winners[0].refresh_token);
      expect(afterRace.status).toBe(400);
      expect(await afterRace.json()).toMatchObject({ error: 'invalid_grant' });
    });
  }

  it('stops a refresh token revoked at the revocation endpoint', async () => {
    const { refresh_token } = await signIn();

    const revocation = await fetch(`${server.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'web', token: refresh_token ?? '' }).toString(),
    });
    expect(revocation.status).toBe(200);
    expect((await refresh(refresh_token ?? '')).status).toBe(400);
  });

  it('introspects a token for its own client only', async () => {
    const { refresh_token } = await signIn();
    const introspect = (headers: Record<string, string>, client: Record<string, string> = {}) =>
      postForm(
        `${server.issuer}/token/introspection`,
        { token: refresh_token ?? '', ...client },
        headers,
      );

    expect((await introspect({}, { client_id: 'web' })).body).toMatchObject({
      active: true,
      sub: 'alice',
    });
    const secret = readFileSync(
      join(server.config.clientSecretsDir, 'order.client-secret'),
      'utf8',
    );
    expect((await introspect(basicAuth('order', secret.trim()))).body).toEqual({ active: false });
  });

  it('answers CORS requests from the web client origin, and no other', async () => {
    const { refresh_token } = await signIn();
    const allowed = await refresh(refresh_token ?? '');
    expect(allowed.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);

    const foreign = await refresh(
      ((await allowed.json()) as Record<string, string>).refresh_token,
      'http://evil.example',
    );
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});
