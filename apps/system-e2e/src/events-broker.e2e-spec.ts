import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { TestIssuer } from '@acme/auth/testing';
import { EVENT_ROUTES, ORDER_PATTERNS, PAYMENT_PATTERNS } from '@acme/contracts';
import type { Order } from '@acme/contracts';
import { DEAD_LETTER_HEADERS, deadLetterStreamOf, streamOf } from '@acme/events';
import { OtlpReceiver } from '@acme/telemetry/testing';
import type { ReceivedSpan } from '@acme/telemetry/testing';
import { EventSigner, EventVerifier } from '@acme/transport';
import { eventually } from './support/eventually';
import { request } from './support/http';
import { rawCall } from './support/rpc';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem, TRUST_DOMAIN } from './support/system';

const SCOPE = 'orders:read orders:write';
const COMPLETED = EVENT_ROUTES.paymentCompleted.subject;

/** How long an event may take to arrive through the broker, retries and redeliveries included. */
const DELIVERY_TIMEOUT_MS = 40_000;

/**
 * Only the event settles these orders: the charge goes to payment directly,
 * as order would send it, so order's own `pay` never marks them paid.
 */
describe('payment completed over the NATS JetStream broker', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let alice: string;
  let operator: NatsConnection;
  let receiver: OtlpReceiver;

  const connectAs = (service: string) =>
    connect({
      servers: system.broker?.url,
      tls: {
        ca: readFileSync(system.file('ca.crt'), 'utf8'),
        cert: readFileSync(system.file(`${service}.crt`), 'utf8'),
        key: readFileSync(system.file(`${service}.key`), 'utf8'),
      },
      inboxPrefix: `_INBOX.${service}`,
    });

  const createOrder = async () => {
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: alice,
      body: { items: [{ sku: 'book-2', quantity: 1 }] },
    });
    expect(created.status).toBe(201);
    return created.body;
  };
  const getOrder = async (id: string) =>
    (await request<Order>(system.gatewayUrl, 'GET', `/api/orders/${id}`, { token: alice })).body;
  /** Charges at payment as order would, so that only the event can settle the order. */
  const chargeDirectly = async (order: Order) =>
    (await rawCall(
      system.port('payment'),
      {
        ca: readFileSync(system.file('ca.crt')),
        cert: readFileSync(system.file('order.crt')),
        key: readFileSync(system.file('order.key')),
        servername: 'payment',
      },
      PAYMENT_PATTERNS.charge,
      { orderId: order.id, payerId: 'alice', amount: order.total, currency: order.currency },
      // As order sends it: exchanged for payment's audience.
      { token: issuer.userToken('alice', { scope: SCOPE, audience: 'urn:acme:payment' }) },
    )) as { id: string };
  const allPaid = (orders: Order[], timeoutMs?: number) =>
    eventually(
      () => Promise.all(orders.map((order) => getOrder(order.id))),
      (now) => now.every((order) => order.status === 'PAID'),
      timeoutMs ?? DELIVERY_TIMEOUT_MS,
    );
  const deadLetterReasons = async (): Promise<string[]> => {
    const jsm = await operator.jetstreamManager();
    const info = await jsm.streams.info(deadLetterStreamOf('order')).catch(() => undefined);
    const reasons: string[] = [];
    if (!info?.state.messages) return reasons;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const stored = await jsm.streams.getMessage(deadLetterStreamOf('order'), { seq });
      reasons.push(stored.header.get(DEAD_LETTER_HEADERS.detail));
    }
    return reasons;
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    receiver = await OtlpReceiver.start();
    system = new SecureSystem(issuer.issuer, {
      database: 'embedded',
      broker: true,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    await system.start();
    alice = issuer.userToken('alice', { scope: SCOPE });
    operator = await connectAs('operator');
  });

  afterAll(async () => {
    await operator?.close();
    await system?.stop();
    await receiver?.close();
    await issuer?.stop();
  });

  it("settles the order from payment's signed event, which names the user and no token", async () => {
    const order = await createOrder();
    const payment = await chargeDirectly(order);

    expect(await allPaid([order])).toEqual([
      expect.objectContaining({ status: 'PAID', paymentId: payment.id }),
    ]);
    const stored = await (
      await operator.jetstreamManager()
    ).streams.getMessage(streamOf('payment'), { last_by_subj: COMPLETED });
    const jws = new TextDecoder().decode(stored.data);
    const event = new EventVerifier(readFileSync(system.file('ca.crt')), TRUST_DOMAIN).verify(
      jws,
      COMPLETED,
    );
    expect(event).toMatchObject({
      producer: `spiffe://${TRUST_DOMAIN}/payment`,
      actor: 'alice',
      data: { orderId: order.id, paymentId: payment.id },
    });
    expect(jws).not.toContain(alice.split('.')[1]);
  });

  it("continues the charge's trace in order's handling of the event", async () => {
    const order = await createOrder();
    await chargeDirectly(order);
    await allPaid([order]);

    const consumed = `${COMPLETED} process`;
    const delivered = `outbox.deliver ${ORDER_PATTERNS.paymentCompleted}`;
    const parentOf = (span: ReceivedSpan) =>
      receiver.spans.find((other) => other.spanId === span.parentSpanId);
    const spans = await receiver.waitFor((all) =>
      all.some(
        (span) =>
          span.service === 'order' &&
          span.name === consumed &&
          span.attributes['acme.event.producer'] === `spiffe://${TRUST_DOMAIN}/payment` &&
          parentOf(span) !== undefined,
      ),
    );
    const atOrder = spans.find((span) => span.service === 'order' && span.name === consumed);
    expect(atOrder?.kind).toBe(5); // consumer
    expect(parentOf(atOrder as ReceivedSpan)).toMatchObject({
      service: 'payment',
      name: delivered,
      traceId: atOrder?.traceId,
    });
  });

  it('refuses, at the broker, payment publishing as order', async () => {
    const payment = await connectAs('payment');
    try {
      await expect(
        payment.jetstream().publish('events.order.created', Buffer.from('{}'), { timeout: 3_000 }),
      ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    } finally {
      await payment.close();
    }
  });

  it("dead-letters an event on payment's subject signed by another service, and leaves the order unpaid", async () => {
    const order = await createOrder();
    // The broker lets only payment publish here: this is payment's connection, order's signature.
    const payment = await connectAs('payment');
    try {
      const forged = new EventSigner({
        cert: readFileSync(system.file('order.crt')),
        key: readFileSync(system.file('order.key')),
      }).sign(
        { id: randomUUID(), type: COMPLETED },
        { orderId: order.id, paymentId: randomUUID() },
      );
      await payment.jetstream().publish(COMPLETED, Buffer.from(forged));
    } finally {
      await payment.close();
    }
    const reasons = await eventually(
      deadLetterReasons,
      (now) =>
        now.some((detail) => detail.includes(`spiffe://${TRUST_DOMAIN}/order is not allowed`)),
      DELIVERY_TIMEOUT_MS,
    );
    expect(reasons.some((detail) => detail.includes('is not allowed'))).toBe(true);
    expect(await getOrder(order.id)).toMatchObject({ status: 'PENDING' });
  });

  it('loses nothing when order is killed mid-stream', async () => {
    const orders = await Promise.all(Array.from({ length: 8 }, () => createOrder()));
    const charging = orders.map((order, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 30)).then(() => chargeDirectly(order)),
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    await system.processes.get('order')?.stop('SIGKILL');
    await Promise.all(charging);
    await system.processes.get('order')?.start();

    expect((await allPaid(orders)).map((order) => order.status)).toEqual(Array(8).fill('PAID'));
  });

  it('loses nothing when the broker is killed mid-stream', async () => {
    const orders = await Promise.all(Array.from({ length: 8 }, () => createOrder()));
    const charging = orders.map((order, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 30)).then(() => chargeDirectly(order)),
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    await system.broker?.kill();
    await Promise.all(charging);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await system.broker?.restart();

    expect((await allPaid(orders)).map((order) => order.status)).toEqual(Array(8).fill('PAID'));
  });

  it('loses nothing when payment is killed mid-stream', async () => {
    const orders = await Promise.all(Array.from({ length: 8 }, () => createOrder()));
    const charging = orders.map((order, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 30))
        .then(() => chargeDirectly(order))
        .catch(() => undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await system.processes.get('payment')?.stop('SIGKILL');
    await Promise.all(charging);
    await system.processes.get('payment')?.start();
    // What payment never took is charged again (charges are idempotent by order); nothing is lost.
    for (const order of orders) await chargeDirectly(order);

    // Rows the killed relay had claimed stay leased to it for 30 s before the new one sends them.
    expect((await allPaid(orders, 60_000)).map((order) => order.status)).toEqual(
      Array(8).fill('PAID'),
    );
  });
});
