import { ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { ServiceClient } from '@acme/auth';
import { ORDER_PATTERNS } from '@acme/contracts';
import type { OpenDatabase } from '@acme/persistence';
import { openEmbeddedTestDatabase } from '@acme/persistence/testing';
import { PAYMENT_MIGRATIONS } from '../migrations';
import { OutboxRelay } from './outbox.relay';

interface OutboxRow {
  id: number;
  attempts: number;
  delivered: boolean;
  last_error: string | null;
  retry_in_sec: number;
}

/** The order service as the relay sees it: records what it was sent, answers what it is told. */
class OrderStub {
  readonly received: { pattern: string; payload: unknown }[] = [];
  answer: () => Promise<unknown> = () => Promise.resolve({ ok: true });

  sendAsService(pattern: string, payload: unknown): Promise<unknown> {
    this.received.push({ pattern, payload });
    return this.answer();
  }
}

describe(OutboxRelay.name, () => {
  let database: OpenDatabase;
  let order: OrderStub;
  let relay: OutboxRelay;

  beforeAll(async () => {
    database = await openEmbeddedTestDatabase('payments', PAYMENT_MIGRATIONS);
  });

  afterAll(async () => {
    await database.close();
  });

  beforeEach(async () => {
    await database.exec('DELETE FROM outbox');
    order = new OrderStub();
    relay = new OutboxRelay(database, order as unknown as ServiceClient, null);
  });

  async function enqueue(orderId: string): Promise<void> {
    await database.query('INSERT INTO outbox (topic, payload) VALUES ($1, $2)', [
      ORDER_PATTERNS.paymentCompleted,
      JSON.stringify({ orderId, paymentId: `payment-of-${orderId}` }),
    ]);
  }

  async function rows(): Promise<OutboxRow[]> {
    return database.query<OutboxRow>(
      `SELECT id::int AS id, attempts, delivered_at IS NOT NULL AS delivered, last_error,
         round(extract(epoch FROM next_attempt_at - now()))::int AS retry_in_sec
       FROM outbox ORDER BY id`,
    );
  }

  /** One pass of the relay, as its timer or a new payment starts it. */
  async function drain(): Promise<void> {
    relay.kick();
    await relay.onApplicationShutdown();
  }

  it('delivers each pending event to order as this service, and marks it delivered', async () => {
    await enqueue('o-1');
    await enqueue('o-2');

    await drain();

    expect(order.received).toEqual([
      {
        pattern: ORDER_PATTERNS.paymentCompleted,
        payload: { orderId: 'o-1', paymentId: 'payment-of-o-1' },
      },
      {
        pattern: ORDER_PATTERNS.paymentCompleted,
        payload: { orderId: 'o-2', paymentId: 'payment-of-o-2' },
      },
    ]);
    expect(await rows()).toEqual([
      expect.objectContaining({ attempts: 1, delivered: true, last_error: null }),
      expect.objectContaining({ attempts: 1, delivered: true, last_error: null }),
    ]);
  });

  it('sends a delivered event never again', async () => {
    await enqueue('o-1');
    await drain();

    await drain();

    expect(order.received).toHaveLength(1);
  });

  it('keeps an event that order did not acknowledge, and retries it later with backoff', async () => {
    await enqueue('o-1');
    order.answer = () => Promise.reject(new Error('Connection closed'));

    await drain();

    const [row] = await rows();
    expect(row).toMatchObject({ attempts: 1, delivered: false, last_error: 'Connection closed' });
    expect(row.retry_in_sec).toBe(2);
    await drain();
    expect(order.received).toHaveLength(1); // not due yet
  });

  it('retries a refused service token (401): the token may have been rotated', async () => {
    await enqueue('o-1');
    order.answer = () => Promise.reject(new UnauthorizedException('token expired'));

    await drain();

    expect(await rows()).toEqual([expect.objectContaining({ delivered: false })]);
  });

  it.each([
    ['403', new ForbiddenException('payment may not send this')],
    ['404', new NotFoundException('order deleted')],
  ])(
    'gives up on an event order refuses for good (%s), keeping the reason',
    async (_status, refusal) => {
      await enqueue('o-1');
      order.answer = () => Promise.reject(refusal);

      await drain();
      await drain();

      expect(order.received).toHaveLength(1);
      expect(await rows()).toEqual([
        expect.objectContaining({ delivered: true, last_error: refusal.message }),
      ]);
    },
  );

  it('delivers what is pending, in batches, when more than one batch is waiting', async () => {
    for (let i = 0; i < 45; i++) await enqueue(`o-${i}`);

    await drain();

    expect(order.received).toHaveLength(45);
    expect((await rows()).every((row) => row.delivered)).toBe(true);
  });
});
