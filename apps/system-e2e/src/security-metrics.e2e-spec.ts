import { TestIssuer } from '@acme/auth/testing';
import { ORDER_PATTERNS, PAYMENT_PATTERNS } from '@acme/contracts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { request } from './support/http';
import { Scrape } from './support/metrics';
import { rawCall } from './support/rpc';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

/**
 * Each service's Prometheus endpoint, scraped before and after refused
 * requests and messages: every refusal is counted once, under its reason.
 */
describe('security metrics', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;

  const scrape = (service: 'gateway' | 'order' | 'payment') =>
    Scrape.of(system.metricsUrl(service));
  const listOrders = (token?: string) =>
    request(system.gatewayUrl, 'GET', '/api/orders', { token });
  const tlsOf = (service: string, servername: string): ConnectionOptions => ({
    ca: readFileSync(system.file('ca.crt')),
    cert: readFileSync(system.file(`${service}.crt`)),
    key: readFileSync(system.file(`${service}.key`)),
    servername,
  });

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, {
      database: 'embedded',
      env: { RATE_LIMIT_REPLENISH_RATE: '0.01', RATE_LIMIT_BURST_CAPACITY: '3' },
    });
    await system.start();
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  it('is not served on the public port of the gateway', async () => {
    expect((await fetch(`${system.gatewayUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${system.gatewayUrl}/api/metrics`)).status).toBe(404);
  });

  it('counts the gateway refusals by reason, the token cache and the latency per route', async () => {
    const [before, orderBefore] = await Promise.all([scrape('gateway'), scrape('order')]);
    const denials = (reason: string, check = '') =>
      after.delta(before, 'acme_auth_denials_total', { reason, check });

    expect((await listOrders()).status).toBe(401);
    expect((await listOrders(issuer.userToken('alice', { expiresIn: -3_600 }))).status).toBe(401);
    expect((await listOrders(issuer.userToken('alice', { roles: ['user'] }))).status).toBe(403);
    expect(
      (await listOrders(issuer.userToken('alice', { roles: ['guest'], scope: 'orders:read' })))
        .status,
    ).toBe(403);
    const bob = issuer.userToken('bob', { roles: ['user'], scope: 'orders:read' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await listOrders(bob)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const [after, orderAfter] = await Promise.all([scrape('gateway'), scrape('order')]);

    expect(denials('missing_token')).toBe(1);
    expect(denials('invalid_token', 'expired')).toBe(1);
    expect(denials('insufficient_scope')).toBe(1);
    expect(denials('role')).toBe(1);
    expect(
      after.delta(before, 'acme_rate_limit_rejections_total', {
        route: '/api/orders',
        stage: 'per_principal',
      }),
    ).toBe(1);
    // Bob's token is verified four times: once, then from the cache.
    expect(after.delta(before, 'acme_token_cache_lookups_total', { result: 'miss' })).toBe(4);
    expect(after.delta(before, 'acme_token_cache_lookups_total', { result: 'hit' })).toBe(3);
    const requests = (status: string) =>
      after.delta(before, 'acme_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/orders',
        status,
      });
    expect([requests('200'), requests('401'), requests('403'), requests('429')]).toEqual([
      3, 2, 2, 1,
    ]);
    expect(
      orderAfter.delta(orderBefore, 'acme_rpc_message_duration_seconds_count', {
        pattern: ORDER_PATTERNS.list,
        outcome: 'ok',
      }),
    ).toBe(3);
    expect(after.value('acme_jwks_refreshes_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(after.value('acme_circuit_breaker_state', { service: 'order' })).toBe(0);
    expect(after.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts a TLS client without a certificate, and a service calling what it may not', async () => {
    const [order, payment] = await Promise.all([scrape('order'), scrape('payment')]);
    const { cert, key, ...noCertificate } = tlsOf('order', 'order');
    const token = issuer.userToken('alice', { roles: ['user'], scope: 'orders:write' });

    await expect(
      rawCall(system.port('order'), noCertificate, ORDER_PATTERNS.list, {}, { token }),
    ).rejects.toThrow();
    await expect(
      rawCall(
        system.port('payment'),
        tlsOf('gateway', 'payment'),
        PAYMENT_PATTERNS.charge,
        { orderId: randomUUID(), payerId: 'alice', amount: 1000 },
        { token },
      ),
    ).rejects.toMatchObject({ status: 403 });
    const [orderAfter, paymentAfter] = await Promise.all([scrape('order'), scrape('payment')]);

    expect(
      orderAfter.delta(order, 'acme_tls_handshake_failures_total', { reason: 'no_certificate' }),
    ).toBe(1);
    expect(
      paymentAfter.delta(payment, 'acme_auth_denials_total', { reason: 'caller_not_allowed' }),
    ).toBe(1);
  });
});
