import { ProviderIssuer } from '@acme/auth/testing';
import type { ExternalProvider } from '@acme/auth/testing';
import type { Order } from '@acme/contracts';
import { Client } from 'pg';
import { request } from './support/http';
import { CLIENT_SECRETS, POSTGRES_URL, SecureSystem } from './support/system';

/** What an operator sets for each provider (docs/providers/*.md), with ids as it generates them. */
const SETUPS: Record<
  ExternalProvider,
  { audience: string; payment: string; order: string; env?: Record<string, string> }
> = {
  keycloak: { audience: 'acme-api', payment: 'acme-payment', order: 'acme-order' },
  auth0: {
    audience: 'https://api.acme.example',
    payment: 'kT3vQ9pZc2LmN8wXpay1',
    order: 'Hq7RtY2uVb4NcX9zord1',
    env: { AUTH_ROLES_CLAIM: 'https://acme.example/roles' },
  },
  okta: { audience: 'api://acme', payment: '0oa8pay4x9Qb2d7h5d7', order: '0oa8ord4x9Qb2d7h5d7' },
};

/**
 * The whole system (gateway -> order -> payment, real processes, mutual TLS)
 * trusting an issuer with Keycloak's, Auth0's or Okta's paths and token shapes,
 * configured by environment alone: users read and pay orders, and payment
 * confirms to order with its own client-credentials token.
 */
describe.each<ExternalProvider>(['keycloak', 'auth0', 'okta'])('with %s as issuer', (provider) => {
  const setup = SETUPS[provider];
  let issuer: ProviderIssuer;
  let system: SecureSystem;
  const alice = () =>
    issuer.userToken({ username: 'alice', roles: ['user'], scope: 'orders:read orders:write' });

  beforeAll(async () => {
    issuer = await ProviderIssuer.start(provider, {
      audience: setup.audience,
      clients: {
        [setup.payment]: CLIENT_SECRETS['payment'],
        [setup.order]: CLIENT_SECRETS['order'],
      },
    });
    system = new SecureSystem(issuer.issuer, {
      env: {
        AUTH_PROVIDER: provider,
        // Neither Auth0 nor Okta exchanges tokens: the fallback forwards the user's token, and
        // every service accepts the one audience configured at the provider.
        AUTH_DELEGATION: 'forward',
        AUTH_AUDIENCE: setup.audience,
        ORDER_AUDIENCE: setup.audience,
        PAYMENT_AUDIENCE: setup.audience,
        AUTH_SERVICE_CLIENTS: `payment=${setup.payment},order=${setup.order}`,
        AUTH_CLIENT_ID: setup.payment, // read by payment only, the one service that acts as itself
        ...setup.env,
      },
    });
    await system.start();
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  it('lets a user create, read and pay an order; payment confirms it to order as itself', async () => {
    const token = alice();
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'sticker-1', quantity: 2 }] },
    });
    expect(created.status).toBe(201);
    const read = await request<Order>(system.gatewayUrl, 'GET', `/api/orders/${created.body.id}`, {
      token,
    });
    expect(read.status).toBe(200);

    const paid = await request<Order>(
      system.gatewayUrl,
      'POST',
      `/api/orders/${created.body.id}/pay`,
      {
        token,
        body: {
          billing: { name: 'Alice Liddell', address: '1 Rabbit Hole' },
          cardToken: 'tok_visa4242abcd',
        },
      },
    );
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('PAID');
    // order accepted payment's event (isService('payment') with payment's client id), so the outbox says delivered without error.
    expect(await outboxOutcome(system)).toEqual({ delivered: true, error: null });
  });

  it("maps the provider's roles: admin reads every order, a plain user is refused", async () => {
    const bob = issuer.userToken({
      username: 'bob',
      roles: ['user', 'admin'],
      scope: 'orders:read admin:read',
    });
    const carol = issuer.userToken({
      username: 'carol',
      roles: ['user'],
      scope: 'orders:read admin:read',
    });

    expect(
      (await request(system.gatewayUrl, 'GET', '/api/admin/orders', { token: bob })).status,
    ).toBe(200);
    expect(
      (await request(system.gatewayUrl, 'GET', '/api/admin/orders', { token: carol })).status,
    ).toBe(403);
  });

  it('refuses a token for another audience, from another issuer, or of another provider instance', async () => {
    const wrongAudience = issuer.userToken(
      { username: 'alice', roles: ['user'], scope: 'orders:read' },
      { aud: 'https://other-api.example' },
    );
    const wrongIssuer = issuer.userToken(
      { username: 'alice', roles: ['user'], scope: 'orders:read' },
      { iss: `${issuer.issuer}-evil` },
    );
    const impostor = await ProviderIssuer.start(provider, { audience: setup.audience });
    try {
      for (const [token, reason] of [
        [wrongAudience, 'wrong audience'],
        [wrongIssuer, 'wrong issuer'],
        [
          impostor.userToken({ username: 'alice', roles: ['user'], scope: 'orders:read' }),
          'unknown signing key',
        ],
      ]) {
        const response = await request(system.gatewayUrl, 'GET', '/api/orders', { token });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toContain(reason);
      }
    } finally {
      await impostor.stop();
    }
  });
});

/** Whether payment's outbox event was delivered, and the error order answered if it was refused. */
async function outboxOutcome(
  system: SecureSystem,
): Promise<{ delivered: boolean; error: string | null }> {
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      const { rows } = await client.query<{ delivered_at: Date | null; last_error: string | null }>(
        `SELECT delivered_at, last_error FROM "${system.schema('payment')}".outbox`,
      );
      if (rows.length > 0 && rows.every((row) => row.delivered_at !== null)) {
        return { delivered: true, error: rows.find((row) => row.last_error)?.last_error ?? null };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { delivered: false, error: null };
  } finally {
    await client.end();
  }
}
