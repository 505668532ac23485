import { TestIssuer } from '@acme/auth/testing';
import { ORDER_PATTERNS, PAYMENT_PATTERNS } from '@acme/contracts';
import type { Order } from '@acme/contracts';
import { OtlpReceiver } from '@acme/telemetry/testing';
import type { ReceivedSpan } from '@acme/telemetry/testing';
import { request } from './support/http';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem, TRUST_DOMAIN } from './support/system';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/**
 * OpenTelemetry across the real processes: each exports its spans with the
 * real SDK and OTLP/HTTP exporter to a receiver in this test, and one paid
 * order must arrive as one trace, a single tree, across gateway, order and
 * payment, the outbox's event included.
 */
describe('tracing', () => {
  let issuer: TestIssuer;
  let receiver: OtlpReceiver;
  let system: SecureSystem;
  const clientTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const token = () =>
    issuer.userToken('alice', { roles: ['user'], scope: 'orders:read orders:write' });

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    receiver = await OtlpReceiver.start();
    system = new SecureSystem(issuer.issuer, {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    await system.start();
  });

  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
    await issuer?.stop();
  });

  const traceOf = (root: ReceivedSpan) =>
    receiver.spans.filter((span) => span.traceId === root.traceId);

  it('follows a paid order through every service, the outbox event included, as one tree', async () => {
    const alice = token();
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: alice,
      body: { items: [{ sku: 'book-1', quantity: 1 }] },
    });
    expect(created.status).toBe(201);
    const paid = await request<Order>(
      system.gatewayUrl,
      'POST',
      `/api/orders/${created.body.id}/pay`,
      { token: alice, headers: { traceparent: clientTraceparent } },
    );
    expect(paid.status).toBe(200);

    const isEdgeSpan = (span: ReceivedSpan) =>
      span.service === 'gateway' && span.name === 'POST /api/orders/:id/pay';
    // Complete: the event's delivery arrived, and so did every span's parent (a parent ends,
    // and is exported, after its children).
    await receiver.waitFor((spans) => {
      const edge = spans.find(isEdgeSpan);
      if (!edge) return false;
      const trace = spans.filter((span) => span.traceId === edge.traceId);
      const ids = new Set(trace.map((span) => span.spanId));
      return (
        trace.some(
          (span) => span.service === 'order' && span.name === ORDER_PATTERNS.paymentCompleted,
        ) && trace.every((span) => span === edge || ids.has(span.parentSpanId ?? ''))
      );
    });
    const edge = receiver.spans.find(isEdgeSpan) as ReceivedSpan;
    const trace = traceOf(edge);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const find = (service: string, name: string) => {
      const span = trace.find((s) => s.service === service && s.name === name);
      if (!span) throw new Error(`no span ${service}: ${name} in the trace`);
      return span;
    };
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId ?? '');

    // One tree: the edge span is the only root, every other span's parent is in the trace.
    expect(trace.filter((span) => !span.parentSpanId)).toEqual([edge]);
    for (const span of trace.filter((s) => s !== edge)) expect(parentOf(span)).toBeDefined();
    expect(new Set(trace.map((span) => span.service))).toEqual(
      new Set(['gateway', 'order', 'payment']),
    );

    // The edge starts its own trace: a client only gets a link to the one it claimed.
    expect(edge.kind).toBe(SERVER);
    expect(edge.traceId).not.toBe(clientTraceparent.split('-')[1]);
    expect(edge.links).toEqual([
      { traceId: clientTraceparent.split('-')[1], spanId: clientTraceparent.split('-')[2] },
    ]);
    expect(edge.attributes).toMatchObject({
      'http.route': '/api/orders/:id/pay',
      'http.response.status_code': 200,
    });

    // gateway -> order -> payment: each server span is the child of its caller's client span.
    const toOrder = find('gateway', `send ${ORDER_PATTERNS.pay}`);
    const atOrder = find('order', ORDER_PATTERNS.pay);
    const toPayment = find('order', `send ${PAYMENT_PATTERNS.charge}`);
    const atPayment = find('payment', PAYMENT_PATTERNS.charge);
    expect(toOrder.kind).toBe(CLIENT);
    expect(atOrder).toMatchObject({ kind: SERVER, parentSpanId: toOrder.spanId });
    expect(atOrder.attributes['acme.peer.spiffe_id']).toBe(`spiffe://${TRUST_DOMAIN}/gateway`);
    expect(toPayment.kind).toBe(CLIENT);
    expect(atPayment).toMatchObject({ kind: SERVER, parentSpanId: toPayment.spanId });

    // The event, written with the payment, is delivered later in the same trace.
    const delivery = find('payment', `outbox.deliver ${ORDER_PATTERNS.paymentCompleted}`);
    expect(parentOf(delivery)).toBe(atPayment);
    const event = find('order', ORDER_PATTERNS.paymentCompleted);
    expect(parentOf(parentOf(event) as ReceivedSpan)).toBe(delivery);

    // Each hop verifies the token and records every guard's decision.
    for (const service of ['gateway', 'order', 'payment']) {
      expect(trace.some((s) => s.service === service && s.name === 'token.verify')).toBe(true);
      const guards = trace.filter((s) => s.service === service && s.name.startsWith('guard '));
      expect(guards.length).toBeGreaterThan(0);
      expect(guards.every((s) => s.attributes['acme.guard.decision'] === 'allow')).toBe(true);
    }
    expect(
      trace.some(
        (s) =>
          s.service === 'gateway' &&
          s.name === 'token.verify' &&
          ['hit', 'miss'].includes(String(s.attributes['acme.token.cache'])),
      ),
    ).toBe(true);

    // The database, on PostgreSQL, in both services that own data.
    for (const service of ['order', 'payment']) {
      expect(
        trace.some((s) => s.service === service && s.attributes['db.system.name'] === 'postgresql'),
      ).toBe(true);
    }
  });

  it('marks a refusal on the guard that made it, with the trace id in the audit line', async () => {
    const guest = issuer.userToken('mallory', { roles: ['guest'], scope: 'orders:read' });
    const refused = await request(system.gatewayUrl, 'GET', '/api/orders', { token: guest });
    expect(refused.status).toBe(403);

    const isRefusal = (span: ReceivedSpan) =>
      span.service === 'gateway' &&
      span.name === 'GET /api/orders' &&
      span.attributes['http.response.status_code'] === 403;
    await receiver.waitFor((spans) => spans.some(isRefusal));
    const edge = receiver.spans.find(isRefusal) as ReceivedSpan;
    const denied = traceOf(edge).filter((s) => s.attributes['acme.guard.decision'] === 'deny');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ name: 'guard RolesGuard', status: ERROR });

    const audit = system
      .logs()
      .split('\n')
      .find((line) => line.includes('"authz_fail"') && line.includes(edge.traceId));
    expect(audit).toBeDefined();
  });

  it('sends no token, secret or header value in any span', () => {
    const exported = receiver.bodies.join('\n');
    expect(receiver.bodies.length).toBeGreaterThan(0);
    expect(exported).not.toMatch(/Bearer|eyJ[A-Za-z0-9_-]{10,}/);
    for (const secret of Object.values(CLIENT_SECRETS)) expect(exported).not.toContain(secret);
  });
});
