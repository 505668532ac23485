import { TestIssuer } from '@acme/auth/testing';
import type { Order, OrderPage } from '@acme/contracts';
import { PAYMENT_PATTERNS } from '@acme/contracts';
import { readFileSync } from 'node:fs';
import { eventually } from './support/eventually';
import { request } from './support/http';
import { rawCall } from './support/rpc';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';
const SCOPE = 'orders:read orders:write';

describe.each([
  ['the embedded database', 'embedded' as const],
  ['PostgreSQL', 'postgres' as const],
])('durability with %s', (_label, database) => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let alice: string;

  const createOrder = async (quantity = 1) => {
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: alice,
      body: { items: [{ sku: 'book-2', quantity }] },
    });
    expect(created.status).toBe(201);
    return created.body;
  };
  const getOrder = async (id: string) =>
    (await request<Order>(system.gatewayUrl, 'GET', `/api/orders/${id}`, { token: alice })).body;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    // The embedded engine runs one transaction at a time: 50 racing charges queue up.
    system = new SecureSystem(issuer.issuer, { database, env: { CALL_TIMEOUT_MS: '20000' } });
    await system.start();
    alice = issuer.userToken('alice', { scope: SCOPE });
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  it('keeps orders and payments across a restart of every service', async () => {
    const pending = await createOrder(1);
    const paid = await createOrder(2);
    const paidAnswer = await request<Order>(
      system.gatewayUrl,
      'POST',
      `/api/orders/${paid.id}/pay`,
      { token: alice },
    );
    expect(paidAnswer.body.status).toBe('PAID');

    for (const service of ['gateway', 'order', 'payment'] as const) await system.restart(service);

    expect(await getOrder(pending.id)).toEqual(pending);
    expect(await getOrder(paid.id)).toMatchObject({
      status: 'PAID',
      paymentId: paidAnswer.body.paymentId,
    });
  });

  it('charges once for 50 concurrent pay calls on one order, and answers each with that payment', async () => {
    const order = await createOrder();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        request<Order>(system.gatewayUrl, 'POST', `/api/orders/${order.id}/pay`, { token: alice }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(new Set(answers.map((a) => a.body.paymentId)).size).toBe(1);
  });

  it('converges to PAID when order is down as payment completes (the outbox redelivers)', async () => {
    const order = await createOrder();
    await system.processes.get('order')?.stop();
    const identity = {
      ca: readFileSync(system.file('ca.crt')),
      cert: readFileSync(system.file('order.crt')),
      key: readFileSync(system.file('order.key')),
      servername: 'payment',
    };
    const charge = {
      orderId: order.id,
      payerId: 'alice',
      amount: order.total,
      currency: order.currency,
    };
    const payment = (await rawCall(
      system.port('payment'),
      identity,
      PAYMENT_PATTERNS.charge,
      charge,
      // As order sends it: exchanged for payment's audience.
      { token: issuer.userToken('alice', { scope: SCOPE, audience: 'urn:acme:payment' }) },
    )) as {
      id: string;
    };
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // at least one failed delivery
    await system.processes.get('order')?.start();

    const converged = await eventually(
      () => getOrder(order.id),
      (o) => o.status === 'PAID',
    );
    expect(converged).toMatchObject({ status: 'PAID', paymentId: payment.id });
  });

  it('loses no order and charges no order twice when payment is killed mid-stream', async () => {
    const orders = await Promise.all(Array.from({ length: 20 }, () => createOrder()));
    const pays = orders.map((order, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 15)).then(() =>
        request<Order>(system.gatewayUrl, 'POST', `/api/orders/${order.id}/pay`, { token: alice }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await system.processes.get('payment')?.stop('SIGKILL');
    const answers = await Promise.all(pays);
    expect(answers.every((a) => a.status === 200 || a.status >= 500)).toBe(true);
    await system.processes.get('payment')?.start();

    // Pay again whatever is still pending (once the circuit to payment has closed): no double charge.
    const settled = await Promise.all(
      orders.map((order) =>
        eventually(
          () =>
            request<Order>(system.gatewayUrl, 'POST', `/api/orders/${order.id}/pay`, {
              token: alice,
            }),
          (answer) => answer.status === 200,
        ),
      ),
    );
    expect(settled.map((a) => a.status)).toEqual(Array(20).fill(200));
    for (const [index, order] of orders.entries()) {
      const first = answers[index];
      if (first.status === 200) expect(settled[index].body.paymentId).toBe(first.body.paymentId);
      expect(await getOrder(order.id)).toMatchObject({
        status: 'PAID',
        paymentId: settled[index].body.paymentId,
      });
    }
    const listed = await request<OrderPage>(system.gatewayUrl, 'GET', '/api/orders?limit=50', {
      token: alice,
    });
    expect(listed.body.items.map((o) => o.id)).toEqual(
      expect.arrayContaining(orders.map((o) => o.id)),
    );
  });
});
