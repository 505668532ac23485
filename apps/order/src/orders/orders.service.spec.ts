import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { ORDER_LIMITS } from '@acme/contracts';
import type { Order } from '@acme/contracts';
import type { OpenDatabase } from '@acme/persistence';
import { openEmbeddedTestDatabase } from '@acme/persistence/testing';
import { randomUUID } from 'node:crypto';
import { ORDER_MIGRATIONS } from '../migrations';
import { OrdersService } from './orders.service';

describe(OrdersService.name, () => {
  let database: OpenDatabase;
  let orders: OrdersService;

  beforeAll(async () => {
    database = await openEmbeddedTestDatabase('orders', ORDER_MIGRATIONS);
    orders = new OrdersService(database);
  }, 60_000); // PGlite compiles its WebAssembly first: seconds on a busy machine

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(() => database.exec('DELETE FROM orders'));

  const count = async () =>
    (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM orders'))[0].n;

  describe('create', () => {
    it('prices every line from the catalog and stores the order as pending', async () => {
      const order = await orders.create('alice', [
        { sku: 'book-1', quantity: 2 },
        { sku: 'mug-1', quantity: 1 },
      ]);

      expect(order).toMatchObject({
        ownerId: 'alice',
        status: 'PENDING',
        items: [
          { sku: 'book-1', quantity: 2, unitPrice: 2999 },
          { sku: 'mug-1', quantity: 1, unitPrice: 1250 },
        ],
        total: 2 * 2999 + 1250,
        currency: 'EUR',
      });
      expect(order).not.toHaveProperty('paymentId');
      expect(await orders.get(order.id)).toEqual(order);
    });

    it('refuses an unknown SKU and stores nothing', async () => {
      await expect(
        orders.create('alice', [
          { sku: 'book-1', quantity: 1 },
          { sku: 'free-lunch', quantity: 1 },
        ]),
      ).rejects.toThrow(new BadRequestException('unknown sku: free-lunch'));
      expect(await count()).toBe(0);
    });

    it('refuses an owner id longer than a page is sized for', async () => {
      await expect(
        orders.create('a'.repeat(ORDER_LIMITS.maxOwnerIdLength + 1), [
          { sku: 'book-1', quantity: 1 },
        ]),
      ).rejects.toBeInstanceOf(BadRequestException);
      expect(await count()).toBe(0);
    });
  });

  describe('get', () => {
    it('answers 404 for an order that does not exist', async () => {
      await expect(orders.get(randomUUID())).rejects.toBeInstanceOf(NotFoundException);
    });
  });

  describe('pages', () => {
    const create = (ownerId: string) => orders.create(ownerId, [{ sku: 'sticker-1', quantity: 1 }]);

    async function everyPage(
      list: (cursor?: string) => Promise<{ items: Order[]; nextCursor: string | null }>,
    ) {
      const seen: Order[] = [];
      let cursor: string | undefined;
      do {
        const page = await list(cursor);
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    }

    it("walks one owner's orders, the newest first, each exactly once", async () => {
      const mine: Order[] = [];
      for (let i = 0; i < 7; i++) {
        mine.push(await create('alice'));
        await create('bob');
      }

      const listed = await everyPage((cursor) => orders.listByOwner('alice', { limit: 3, cursor }));

      expect(listed.map((order) => order.id)).toEqual(mine.map((order) => order.id).reverse());
    });

    it('orders rows created in the same instant by id, so none is skipped or repeated', async () => {
      await database.exec(`
        INSERT INTO orders (id, owner_id, status, items, total, currency, created_at)
        SELECT gen_random_uuid(), 'alice', 'PENDING', '[]', 1, 'EUR', '2026-01-01T00:00:00Z'
        FROM generate_series(1, 9)`);

      const listed = await everyPage((cursor) => orders.listByOwner('alice', { limit: 4, cursor }));

      expect(listed).toHaveLength(9);
      expect(new Set(listed.map((order) => order.id)).size).toBe(9);
    });

    it('lists every owner for an administrator, and ends with no cursor', async () => {
      await create('alice');
      await create('bob');

      const page = await orders.listAll({});

      expect(page.items.map((order) => order.ownerId).sort()).toEqual(['alice', 'bob']);
      expect(page.nextCursor).toBeNull();
    });

    it('refuses a cursor it did not write', async () => {
      await expect(orders.listAll({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
        BadRequestException,
      );
    });
  });

  describe('delete', () => {
    it('removes the order, and answers 404 the second time', async () => {
      const order = await orders.create('alice', [{ sku: 'book-2', quantity: 1 }]);

      await orders.delete(order.id);

      expect(await orders.find(order.id)).toBeUndefined();
      await expect(orders.delete(order.id)).rejects.toBeInstanceOf(NotFoundException);
    });
  });

  describe('markPaid', () => {
    it('records the payment once; the same confirmation again changes nothing', async () => {
      const order = await orders.create('alice', [{ sku: 'book-1', quantity: 1 }]);
      const paymentId = randomUUID();

      const paid = await orders.markPaid(order.id, paymentId);
      const again = await orders.markPaid(order.id, paymentId);

      expect(paid).toEqual({ ...order, status: 'PAID', paymentId });
      expect(again).toEqual(paid);
    });

    it('refuses a second, different payment of a paid order', async () => {
      const order = await orders.create('alice', [{ sku: 'book-1', quantity: 1 }]);
      const first = randomUUID();
      await orders.markPaid(order.id, first);

      await expect(orders.markPaid(order.id, randomUUID())).rejects.toThrow(
        new ConflictException(`order already paid by payment ${first}`),
      );
      expect((await orders.get(order.id)).paymentId).toBe(first);
    });

    it('answers 404 for an order that does not exist', async () => {
      await expect(orders.markPaid(randomUUID(), randomUUID())).rejects.toBeInstanceOf(
        NotFoundException,
      );
    });
  });
});
