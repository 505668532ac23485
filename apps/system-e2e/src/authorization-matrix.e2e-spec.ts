import { TestIssuer } from '@acme/auth/testing';
import type { Order, OrderPage } from '@acme/contracts';
import { request } from './support/http';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

/**
 * Every route of the gateway, called by every kind of caller, through real
 * processes: gateway -> order -> payment over mutual TLS, with tokens signed
 * by a real issuer serving discovery and JWKS over HTTP.
 */
describe('authorization matrix through the gateway', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let callers: Record<Caller, string | undefined>;
  let aliceOrder: Order;

  type Caller = 'anonymous' | 'owner' | 'otherUser' | 'admin' | 'expired' | 'forged' | 'service';
  const userScope = 'orders:read orders:write';

  const call = <T = unknown>(caller: Caller, method: string, path: string, body?: unknown) =>
    request<T>(system.gatewayUrl, method, path, { token: callers[caller], body });

  const newOrder = async (caller: Caller = 'owner') => {
    const created = await call<Order>(caller, 'POST', '/api/orders', {
      items: [{ sku: 'book-1', quantity: 2 }],
    });
    expect(created.status).toBe(201);
    return created.body;
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer);
    await system.start();
    const alice = issuer.userToken('alice', { roles: ['user'], scope: userScope });
    const [header, payload, signature] = alice.split('.');
    const elevated = {
      ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
      roles: ['user', 'admin'],
    };
    callers = {
      anonymous: undefined,
      owner: alice,
      otherUser: issuer.userToken('carol', { roles: ['user'], scope: userScope }),
      admin: issuer.userToken('bob', {
        roles: ['user', 'admin'],
        scope: `${userScope} admin:read`,
      }),
      expired: issuer.userToken('alice', { roles: ['user'], scope: userScope, expiresIn: -120 }),
      forged: `${header}.${Buffer.from(JSON.stringify(elevated)).toString('base64url')}.${signature}`,
      service: issuer.serviceToken('order', `${userScope} admin:read`),
    };
    aliceOrder = await newOrder('owner');
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  const rejectedTokens: Caller[] = ['anonymous', 'expired', 'forged'];

  describe.each(rejectedTokens)('as %s', (caller) => {
    it.each([
      ['POST', '/api/orders'],
      ['GET', '/api/orders'],
      ['GET', '/api/orders/:id'],
      ['DELETE', '/api/orders/:id'],
      ['POST', '/api/orders/:id/pay'],
      ['GET', '/api/admin/orders'],
    ])('%s %s answers 401 with a Bearer challenge', async (method, path) => {
      const body = method === 'POST' ? { items: [{ sku: 'book-1', quantity: 1 }] } : undefined;
      const response = await call(caller, method, path.replace(':id', aliceOrder.id), body);
      expect(response.status).toBe(401);
      const challenge = response.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer/);
      if (caller !== 'anonymous') expect(challenge).toContain('error="invalid_token"');
    });
  });

  describe('GET /api/public/info', () => {
    it.each<Caller>(['anonymous', 'owner', 'expired', 'forged'])(
      'answers 200 to %s',
      async (caller) => {
        const response = await call<{ issuer: string }>(caller, 'GET', '/api/public/info');
        expect(response.status).toBe(200);
        expect(response.body.issuer).toBe(issuer.issuer);
      },
    );
  });

  describe('POST /api/orders', () => {
    it('creates a PENDING order owned by the caller, priced from the catalog', () => {
      expect(aliceOrder).toMatchObject({
        ownerId: 'alice',
        status: 'PENDING',
        total: 2 * 2999,
        currency: 'EUR',
      });
      expect(aliceOrder.items).toEqual([{ sku: 'book-1', quantity: 2, unitPrice: 2999 }]);
    });

    it.each<Caller>(['otherUser', 'admin'])('lets %s, a user, create an order', async (caller) => {
      expect((await newOrder(caller)).status).toBe('PENDING');
    });

    it('answers 403 insufficient_scope to a service token', async () => {
      const response = await call('service', 'POST', '/api/orders', {
        items: [{ sku: 'book-1', quantity: 1 }],
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    });

    it.each([
      ['an unknown sku', { items: [{ sku: 'nope-1', quantity: 1 }] }],
      ['a zero quantity', { items: [{ sku: 'book-1', quantity: 0 }] }],
      ['no items', { items: [] }],
      ['a client-side price', { items: [{ sku: 'book-1', quantity: 1, unitPrice: 1 }] }],
      ['an unknown field', { items: [{ sku: 'book-1', quantity: 1 }], ownerId: 'carol' }],
    ])('answers 400 to %s', async (_case, body) => {
      const response = await call<{ message: unknown }>('owner', 'POST', '/api/orders', body);
      expect(response.status).toBe(400);
      expect(response.body.message).toBeDefined();
    });
  });

  describe('GET /api/orders', () => {
    it("lists only the caller's own orders", async () => {
      const mine = await call<OrderPage>('owner', 'GET', '/api/orders');
      expect(mine.status).toBe(200);
      expect(mine.body.items.map((o) => o.id)).toContain(aliceOrder.id);
      expect(mine.body.items.every((o) => o.ownerId === 'alice')).toBe(true);

      const theirs = await call<OrderPage>('otherUser', 'GET', '/api/orders');
      expect(theirs.status).toBe(200);
      expect(theirs.body.items.map((o) => o.id)).not.toContain(aliceOrder.id);
    });

    it('answers 403 to a service token', async () => {
      expect((await call('service', 'GET', '/api/orders')).status).toBe(403);
    });
  });

  describe('GET /api/orders/:id', () => {
    it.each<[Caller, number]>([
      ['owner', 200],
      ['admin', 200],
      ['otherUser', 403],
      ['service', 403],
    ])('answers %s with %i', async (caller, status) => {
      const response = await call<Order>(caller, 'GET', `/api/orders/${aliceOrder.id}`);
      expect(response.status).toBe(status);
      if (status === 200) expect(response.body.id).toBe(aliceOrder.id);
    });

    it('answers 404 for an order that does not exist, and 400 for an id that is not a UUID', async () => {
      expect(
        (await call('owner', 'GET', '/api/orders/00000000-0000-4000-8000-000000000000')).status,
      ).toBe(404);
      expect((await call('owner', 'GET', '/api/orders/not-a-uuid')).status).toBe(400);
    });
  });

  describe('GET /api/admin/orders', () => {
    it('lists every order to an admin with admin:read', async () => {
      const response = await call<OrderPage>('admin', 'GET', '/api/admin/orders');
      expect(response.status).toBe(200);
      expect(response.body.items.map((o) => o.id)).toContain(aliceOrder.id);
    });

    it.each<Caller>(['owner', 'otherUser', 'service'])('answers 403 to %s', async (caller) => {
      expect((await call(caller, 'GET', '/api/admin/orders')).status).toBe(403);
    });

    it('answers 403 to an admin whose token lacks admin:read', async () => {
      const token = issuer.userToken('bob', { roles: ['user', 'admin'], scope: userScope });
      expect((await request(system.gatewayUrl, 'GET', '/api/admin/orders', { token })).status).toBe(
        403,
      );
    });
  });

  describe('DELETE /api/orders/:id', () => {
    it.each<Caller>(['otherUser', 'service'])(
      'answers 403 to %s and deletes nothing',
      async (caller) => {
        expect((await call(caller, 'DELETE', `/api/orders/${aliceOrder.id}`)).status).toBe(403);
        expect((await call('owner', 'GET', `/api/orders/${aliceOrder.id}`)).status).toBe(200);
      },
    );

    it.each<Caller>(['owner', 'admin'])('lets %s delete the order', async (caller) => {
      const order = await newOrder('owner');
      expect((await call(caller, 'DELETE', `/api/orders/${order.id}`)).status).toBe(204);
      expect((await call('owner', 'GET', `/api/orders/${order.id}`)).status).toBe(404);
    });
  });

  describe('POST /api/orders/:id/pay', () => {
    it.each<Caller>(['otherUser', 'admin', 'service'])(
      'answers 403 to %s, who does not own the order',
      async (caller) => {
        const order = await newOrder('owner');
        expect((await call(caller, 'POST', `/api/orders/${order.id}/pay`)).status).toBe(403);
        expect((await call<Order>('owner', 'GET', `/api/orders/${order.id}`)).body.status).toBe(
          'PENDING',
        );
      },
    );

    it('charges through payment and marks the order PAID for its owner, once', async () => {
      const order = await newOrder('owner');
      const paid = await call<Order>('owner', 'POST', `/api/orders/${order.id}/pay`);
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ id: order.id, status: 'PAID' });
      expect(paid.body.paymentId).toMatch(/^[0-9a-f-]{36}$/);
      expect((await call<Order>('owner', 'GET', `/api/orders/${order.id}`)).body.status).toBe(
        'PAID',
      );
      const again = await call<Order>('owner', 'POST', `/api/orders/${order.id}/pay`);
      expect(again.status).toBe(200);
      expect(again.body.paymentId).toBe(paid.body.paymentId);
    });
  });

  it('never writes a token to the logs', () => {
    for (const token of Object.values(callers)) {
      if (token) expect(system.logs()).not.toContain(token.split('.')[2]);
    }
  });
});
