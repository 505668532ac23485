import { freePort } from '@acme/bootstrap/testing';
import { createDpopKey, dpopProof } from '@acme/auth/testing';
import { loginWithPkce } from './testing/oidc-client';
import { openLoginForm, submitLogin } from './testing/http';
import { startTestServer, type TestServer } from './testing/test-server';

describe('the auth-server metrics, scraped from its metrics port', () => {
  let server: TestServer;
  let metricsUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    server = await startTestServer({ METRICS_PORT: String(port), LOGIN_MAX_FAILURES: '2' });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(() => server.close());

  /** The value of every series of the auth-server's own counters, by its name and labels. */
  const scrape = async (): Promise<Record<string, number>> => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    const series = (await response.text())
      .split('\n')
      .filter((line) => line.startsWith('acme_auth_server_'))
      .map((line) => line.split(' '));
    return Object.fromEntries(series.map(([name, value]) => [name, Number(value)]));
  };
  const delta = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(after)
        .map(([name, value]) => [name, value - (before[name] ?? 0)])
        .filter(([, change]) => change !== 0),
    );

  it('counts sign-ins by result: failure, success and locked', async () => {
    const before = await scrape();
    const form = await openLoginForm(server.issuer);
    expect((await submitLogin(form, { username: 'carol', password: 'wrong' })).status).toBe(401);
    expect((await submitLogin(form, { username: 'bob', password: 'bob' })).status).toBe(303);
    expect(delta(before, await scrape())).toEqual({
      'acme_auth_server_logins_total{result="failure"}': 1,
      'acme_auth_server_logins_total{result="success"}': 1,
    });

    const beforeLock = await scrape();
    const again = await openLoginForm(server.issuer);
    for (const password of ['wrong-1', 'wrong-2', 'wrong-3']) {
      await submitLogin(again, { username: 'mallory', password });
    }
    expect(delta(beforeLock, await scrape())).toEqual({
      'acme_auth_server_logins_total{result="failure"}': 2,
      'acme_auth_server_logins_total{result="locked"}': 1,
    });
  });

  it('counts a refresh token presented again', async () => {
    // The web client's tokens are DPoP-bound: each refresh comes with a proof by its key.
    const key = createDpopKey();
    const refresh = (refreshToken: string) =>
      fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'http://localhost:4200',
          dpop: dpopProof(key, { method: 'POST', url: `${server.issuer}/token` }),
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: 'web',
          refresh_token: refreshToken,
        }).toString(),
      });
    const { refresh_token: first } = await loginWithPkce({
      issuer: server.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid offline_access orders:read',
      clientId: 'web',
      redirectUri: 'http://localhost:4200/callback',
      dpop: key,
    });
    expect((await refresh(first ?? '')).status).toBe(200);

    const before = await scrape();
    expect((await refresh(first ?? '')).status).toBe(400);
    expect(delta(before, await scrape())).toEqual({
      acme_auth_server_token_reuse_total: 1,
    });
  });

  it('serves nothing but /metrics there, and the issuer does not serve /metrics', async () => {
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(`${server.issuer}/metrics`)).status).toBe(404);
  });
});
