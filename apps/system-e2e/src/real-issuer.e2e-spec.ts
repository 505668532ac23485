import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loginWithPkce } from '@acme/auth/testing';
import { AppProcess, freePort, WORKSPACE } from '@acme/bootstrap/testing';
import type { TokenResponse } from '@acme/auth/testing';
import type { Order, OrderPage } from '@acme/contracts';
import { request } from './support/http';
import { SecureSystem } from './support/system';

/**
 * The whole system with its own OpenID provider: users log in with the
 * authorization code flow + PKCE, services authenticate with client
 * credentials, and every hop verifies the auth server's tokens.
 */
describe('with the auth server as issuer', () => {
  let system: SecureSystem;
  let alice: TokenResponse;
  let bob: TokenResponse;

  const login = (user: string) =>
    loginWithPkce({
      issuer: system.issuerUrl,
      username: user,
      password: user,
      scope: 'openid orders:read orders:write admin:read',
    });

  beforeAll(async () => {
    system = new SecureSystem('auth-server');
    await system.start();
    [alice, bob] = await Promise.all([login('alice'), login('bob')]);
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('lets alice create and pay an order; payment confirms it to order with its own service token', async () => {
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: alice.access_token,
      body: { items: [{ sku: 'sticker-1', quantity: 3 }] },
    });
    expect(created.status).toBe(201);
    expect(created.body.ownerId).toBe('alice');

    const paid = await request<Order>(
      system.gatewayUrl,
      'POST',
      `/api/orders/${created.body.id}/pay`,
      {
        token: alice.access_token,
        body: {
          billing: { name: 'Alice Liddell', address: '1 Rabbit Hole' },
          cardToken: 'tok_visa4242abcd',
        },
      },
    );
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('PAID');
    // The outbox event arrives too, authenticated by payment's client credentials: no failure logged.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(system.logs()).not.toMatch(/outbox event \d+ (not delivered|refused)/);
    expect(system.logs()).not.toContain('Alice Liddell');
  });

  it('grants admin:read to bob only', async () => {
    expect(
      (await request(system.gatewayUrl, 'GET', '/api/admin/orders', { token: bob.access_token }))
        .status,
    ).toBe(200);
    expect(
      (await request(system.gatewayUrl, 'GET', '/api/admin/orders', { token: alice.access_token }))
        .status,
    ).toBe(403);
  });

  it('refuses an ID token used as an access token', async () => {
    expect(alice.id_token).toBeDefined();
    const response = await request(system.gatewayUrl, 'GET', '/api/orders', {
      token: alice.id_token,
    });
    expect(response.status).toBe(401);
  });

  // Each hop exchanges the caller's token at the auth server: while it is down, only tokens
  // exchanged before (remembered until shortly before they expire) still reach order.
  it('keeps serving tokens it has exchanged while the auth server is down, and recovers when it returns', async () => {
    await system.authServer?.stop();
    const orders = await request<OrderPage>(system.gatewayUrl, 'GET', '/api/orders', {
      token: alice.access_token,
    });
    expect(orders.status).toBe(200);
    await system.authServer?.start();
    const carol = await login('carol');
    expect(
      (await request(system.gatewayUrl, 'GET', '/api/orders', { token: carol.access_token }))
        .status,
    ).toBe(200);
  });

  it('writes no token, password or client secret to any log', () => {
    const logs = system.logs();
    for (const token of [
      alice.access_token,
      bob.access_token,
      alice.refresh_token,
      alice.id_token,
    ]) {
      if (token) expect(logs).not.toContain(token.split('.').pop());
    }
    for (const secret of Object.values(system.clientSecrets)) expect(logs).not.toContain(secret);
  });

  it('logs one JSON object per line naming the auth-server, like the other services', () => {
    const output = system.authServer?.output ?? '';
    const lines = output.split('\n').filter((line) => line.startsWith('{'));
    expect(lines.map((line) => JSON.parse(line) as unknown)).toContainEqual(
      expect.objectContaining({ service: 'auth-server', msg: expect.stringMatching(/^Issuer /) }),
    );
    expect(output).not.toContain('[Nest]');
  });

  it('refuses to start in production with the development users, naming USERS_FILE', async () => {
    const production = new AppProcess('auth-server', await freePort(), {
      NODE_ENV: 'production',
      ISSUER: 'http://127.0.0.1:1',
      API_AUDIENCE: 'urn:acme:api',
      SIGNING_KEYS_FILE: join(system.file('auth-server-keys'), 'signing-keys.json'),
      COOKIE_KEYS: randomBytes(32).toString('hex'),
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `e2e-${process.pid}:`,
      CLIENT_SECRETS_DIR: system.dir,
      USERS_FILE: join(WORKSPACE, 'apps/auth-server/dev/users.json'),
    });
    await expect(production.start()).rejects.toThrow(
      /"level":50,.*USERS_FILE: \S+dev\/users\.json holds users whose password is a published development one \(alice, bob, carol\)/,
    );
  });
});
