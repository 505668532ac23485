import { TestIssuer } from '@acme/auth/testing';
import { ORDER_LIMITS } from '@acme/contracts';
import type { Order, OrderPage } from '@acme/contracts';
import { Client } from 'pg';
import { request } from './support/http';
import type { HttpResult } from './support/http';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

/** Orders of the heavy user: together far more than one frame (MAX_FRAME_BYTES, 1 MiB by default). */
const HEAVY_ORDERS = 600;
const LINES = Array.from({ length: ORDER_LIMITS.maxItems }, () => ({
  sku: 'book-1',
  quantity: ORDER_LIMITS.maxQuantity,
  unitPrice: 2999,
}));

/** The rate limit's bucket per user, the default. */
const BURST_CAPACITY = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * The order lists, a page at a time, and what one user with many orders can
 * do to everyone else: nothing, neither to their answers nor to the circuit
 * between gateway and order.
 */
describe('order lists', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let heavy: string;
  let light: string;
  let admin: string;
  let lightOrder: Order;

  const get = <T>(token: string, path: string): Promise<HttpResult<T>> =>
    request<T>(system.gatewayUrl, 'GET', path, { token });

  /** Every order behind `path`, following nextCursor, each page checked against its limit. */
  async function everyPage(token: string, path: string, limit: number): Promise<Order[]> {
    const orders: Order[] = [];
    let cursor: string | null = null;
    do {
      const query = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const page: HttpResult<OrderPage> = await get<OrderPage>(token, `${path}?${query}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(limit);
      orders.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return orders;
  }

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, {
      env: {
        // A circuit once open would stay open through the test: any opening shows.
        CIRCUIT_RESET_MS: '60000',
        // The defaults: what bounds one user's rate, as pages bound the cost of each request.
        RATE_LIMIT_REPLENISH_RATE: '10',
        RATE_LIMIT_BURST_CAPACITY: String(BURST_CAPACITY),
      },
    });
    await system.start();
    heavy = issuer.userToken('heavy', { scope: 'orders:read orders:write' });
    light = issuer.userToken('light', { scope: 'orders:read orders:write' });
    admin = issuer.userToken('admin', { roles: ['user', 'admin'], scope: 'admin:read' });

    lightOrder = (
      await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
        token: light,
        body: { items: [{ sku: 'mug-1', quantity: 1 }] },
      })
    ).body;
    // Straight into order's schema: 600 orders through the API would only slow the test down.
    // Three orders share each timestamp, so that pages must break ties by id.
    const client = new Client({ connectionString: system.databaseUrl });
    await client.connect();
    await client.query(
      `INSERT INTO "${system.schema('order')}".orders (id, owner_id, status, items, total, currency, created_at)
       SELECT gen_random_uuid(), 'heavy', 'PENDING', $1::jsonb, $2, 'EUR',
              now() - make_interval(secs => (n / 3) * 0.001)
       FROM generate_series(1, $3::int) AS n`,
      [JSON.stringify(LINES), LINES.length * 100 * 2999, HEAVY_ORDERS],
    );
    await client.end();
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  describe('GET /api/orders', () => {
    it('pages through every order of the caller once, the newest first, ties broken by id', async () => {
      const orders = await everyPage(heavy, '/api/orders', ORDER_LIMITS.maxPageSize);

      expect(orders).toHaveLength(HEAVY_ORDERS);
      expect(new Set(orders.map((o) => o.id)).size).toBe(HEAVY_ORDERS);
      expect(orders.every((o) => o.ownerId === 'heavy')).toBe(true);
      for (let i = 1; i < orders.length; i++) {
        const [newer, older] = [orders[i - 1], orders[i]];
        expect(newer.createdAt >= older.createdAt).toBe(true);
        if (newer.createdAt === older.createdAt) expect(newer.id > older.id).toBe(true);
      }
      // Unpaginated, they would not fit in one frame.
      expect(JSON.stringify(orders).length).toBeGreaterThan(1024 * 1024);
    });

    it(`answers ${ORDER_LIMITS.defaultPageSize} orders when no limit is given`, async () => {
      const page = await get<OrderPage>(heavy, '/api/orders');
      expect(page.body.items).toHaveLength(ORDER_LIMITS.defaultPageSize);
      expect(page.body.nextCursor).toEqual(expect.any(String));
    });

    it('answers the last page with a null nextCursor', async () => {
      const page = await get<OrderPage>(light, '/api/orders');
      expect(page.body).toEqual({ items: [lightOrder], nextCursor: null });
    });

    it.each([
      ['a limit above the maximum', 'limit=51', 'limit must be at most 50, the maximum page size'],
      ['a limit of 0', 'limit=0', 'limit must be at least 1'],
      ['a limit that is no number', 'limit=all', 'limit must be an integer'],
      ['a cursor of foreign characters', 'cursor=*', 'cursor must be the nextCursor'],
      ['a well-formed cursor of nothing', 'cursor=aGVsbG8', 'cursor must be the nextCursor'],
      ['an offset', 'offset=10', 'property offset should not exist'],
    ])('answers 400 to %s, saying why', async (_case, query, message) => {
      const response = await get<{ message: string | string[] }>(heavy, `/api/orders?${query}`);
      expect(response.status).toBe(400);
      expect(String(response.body.message)).toContain(message);
    });
  });

  describe('GET /api/admin/orders', () => {
    it('pages through every order of every user once', async () => {
      const orders = await everyPage(admin, '/api/admin/orders', ORDER_LIMITS.maxPageSize);
      expect(orders).toHaveLength(HEAVY_ORDERS + 1);
      expect(new Set(orders.map((o) => o.id)).size).toBe(HEAVY_ORDERS + 1);
      expect(orders.map((o) => o.id)).toContain(lightOrder.id);
    });

    it('answers 400 to a limit above the maximum', async () => {
      const response = await get<{ message: string[] }>(admin, '/api/admin/orders?limit=1000');
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('limit must be at most 50, the maximum page size');
    });
  });

  it("leaves other users' status and latency untouched while one user hammers the list, and the circuit closed", async () => {
    // Paced within the light user's own rate limit (10 a second).
    const timedLightCalls = async (count: number) => {
      const answers: { status: number; ms: number }[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        const { status } = await get(light, '/api/orders');
        answers.push({ status, ms: performance.now() - started });
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
      return answers;
    };
    await timedLightCalls(5); // warm-up: connections, JIT
    const before = await timedLightCalls(30);

    // The heavy user asks for its largest pages, and for more than a page, back to back.
    let hammering = true;
    const heavyStatuses = new Set<number>();
    const heavyList = async (query: string) =>
      heavyStatuses.add((await get(heavy, `/api/orders?${query}`)).status);
    const hammer = async () => {
      while (hammering) {
        for (const query of [
          `limit=${ORDER_LIMITS.maxPageSize}`,
          'limit=100000',
          'cursor=aGVsbG8',
        ]) {
          await heavyList(query);
        }
      }
    };
    const hammering$ = hammer();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await timedLightCalls(30);
    hammering = false;
    await hammering$;
    // Then a burst of twice its bucket at once: over its rate limit however slow the machine.
    // Not during the timed calls: answering a flood of 429s takes the gateway's CPU too, and
    // how much that slows the light user depends on the machine, not on pages or circuits.
    const [lightDuringBurst] = await Promise.all([
      get(light, '/api/orders'),
      ...Array.from({ length: 2 * BURST_CAPACITY }, () =>
        heavyList(`limit=${ORDER_LIMITS.maxPageSize}`),
      ),
    ]);

    expect(lightDuringBurst.status).toBe(200);
    expect(during.map((a) => a.status)).toEqual(Array(30).fill(200));
    // Pages, refusals of bad input, and refusals for going over the rate limit: never a 5xx.
    expect([...heavyStatuses].sort()).toEqual([200, 400, 429]);
    // Same range: CPU is shared with the heavy user's pages, so some slowdown is expected; a
    // connection blocked by one huge reply, or a fast 503 from an open circuit, is not.
    const [usual, loaded] = [median(before.map((a) => a.ms)), median(during.map((a) => a.ms))];
    expect(loaded).toBeLessThan(usual * 4 + 40);
    expect(system.logs()).not.toMatch(/order (is )?unavailable/);
  });

  describe('while order is starting', () => {
    it('answers 503 at once without opening the circuit, and serves as soon as order is up', async () => {
      // A gateway that has never reached order, as after `npm start`.
      await system.processes.get('order')?.stop();
      await system.restart('gateway');

      for (let i = 0; i < 10; i++) {
        const started = Date.now();
        expect((await get(light, '/api/orders')).status).toBe(503);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      await system.processes.get('order')?.start();

      // The circuit, had it opened, would answer 503 for CIRCUIT_RESET_MS (60 s) more.
      expect((await get(light, '/api/orders')).status).toBe(200);
    });
  });
});
