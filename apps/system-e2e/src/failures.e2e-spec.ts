import { TestIssuer } from '@acme/auth/testing';
import type { Order, OrderPage } from '@acme/contracts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { request } from './support/http';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

describe('failures', () => {
  describe('a downstream service that is down', () => {
    let issuer: TestIssuer;
    let system: SecureSystem;

    beforeAll(async () => {
      issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
      system = new SecureSystem(issuer.issuer);
      await system.start();
    });

    afterAll(async () => {
      await system?.stop();
      await issuer?.stop();
    });

    it('answers 503 to pay quickly instead of hanging, serves the rest, stays ready, and reports payment down', async () => {
      const token = issuer.userToken('alice', { scope: 'orders:read orders:write' });
      const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
        token,
        body: { items: [{ sku: 'mug-1', quantity: 1 }] },
      });
      expect(created.status).toBe(201);

      expect(await system.processes.get('payment')?.stop()).toBe(0);
      const started = Date.now();
      const paid = await request(system.gatewayUrl, 'POST', `/api/orders/${created.body.id}/pay`, {
        token,
      });
      expect(paid.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(3_000);
      const order = await request<Order>(
        system.gatewayUrl,
        'GET',
        `/api/orders/${created.body.id}`,
        { token },
      );
      expect(order.body.status).toBe('PENDING');
      const orders = await request<OrderPage>(system.gatewayUrl, 'GET', '/api/orders', { token });
      expect(orders.status).toBe(200);
      expect(orders.body.items.map((o) => o.id)).toContain(created.body.id);

      // Only what needs payment fails: the gateway stays in rotation.
      expect((await request(system.gatewayUrl, 'GET', '/readyz')).status).toBe(200);
      // From loopback, the default admin network.
      expect(await request(system.gatewayUrl, 'GET', '/healthz/dependencies')).toMatchObject({
        status: 503,
        body: { details: { order: { status: 'up' }, payment: { status: 'down' } } },
      });
    });

    it('exits 0 on SIGTERM', async () => {
      expect(await system.processes.get('order')?.stop()).toBe(0);
      expect(await system.processes.get('gateway')?.stop()).toBe(0);
    });
  });

  describe('configuration', () => {
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, [join(__dirname, '../../../dist/apps/order/main.js')], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        encoding: 'utf8',
        timeout: 15_000,
      });

    it('refuses to start without its certificate, naming the key', () => {
      const result = start({ TLS_CERT_FILE: '/nonexistent/order.crt' });
      expect(result.status).not.toBe(0);
      expect(result.stderr + result.stdout).toMatch(
        /TLS_CERT_FILE: no file at \/nonexistent\/order\.crt/,
      );
    });

    it('names every bad key at once', () => {
      const result = start({ PORT: 'eighty', AUTH_ISSUER: 'not a url', TLS_MIN_VERSION: 'SSLv3' });
      const output = result.stderr + result.stdout;
      expect(result.status).not.toBe(0);
      for (const key of ['PORT', 'AUTH_ISSUER', 'TLS_MIN_VERSION']) {
        expect(output).toContain(`${key}:`);
      }
    });
  });
});
