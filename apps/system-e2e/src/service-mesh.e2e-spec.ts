import { TestIssuer } from '@acme/auth/testing';
import { ORDER_PATTERNS } from '@acme/contracts';
import type { Order } from '@acme/contracts';
import { once } from 'node:events';
import { connect } from 'node:tls';
import { request } from './support/http';
import { rawCall } from './support/rpc';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

/**
 * The system as it runs under Istio or Linkerd (`TRANSPORT_SECURITY=mesh`,
 * k8s/overlays/mesh): the sidecars do mutual TLS and authorize the calling
 * service, so the processes speak plaintext inside the pod and hold no
 * certificate. What stays theirs: a token verified at every hop, and the rules
 * on every handler. There is no mesh here: the test calls the ports as a
 * sidecar would.
 */
describe('behind a service mesh (TRANSPORT_SECURITY=mesh)', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let aliceToken: string;
  /** alice's token as order receives it from the gateway, exchanged for its audience. */
  let aliceForOrder: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, {
      env: {
        TRANSPORT_SECURITY: 'mesh',
        TLS_CA_FILE: '/nonexistent/ca.crt',
        TLS_CERT_FILE: '/nonexistent/service.crt',
        TLS_KEY_FILE: '/nonexistent/service.key',
      },
    });
    await system.start();
    aliceToken = issuer.userToken('alice', { roles: ['user'], scope: 'orders:read orders:write' });
    aliceForOrder = issuer.userToken('alice', {
      roles: ['user'],
      scope: 'orders:read orders:write',
      audience: 'urn:acme:order',
    });
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  it('pays an order through gateway, order and payment, none of which holds a certificate', async () => {
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: aliceToken,
      body: { items: [{ sku: 'book-1', quantity: 2 }] },
    });
    expect(created.status).toBe(201);

    const paid = await request<Order>(
      system.gatewayUrl,
      'POST',
      `/api/orders/${created.body.id}/pay`,
      {
        token: aliceToken,
        body: {},
      },
    );
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ id: created.body.id, status: 'PAID' });
    expect(system.logs()).toContain('listening on tcp://127.0.0.1:');
    expect(system.logs()).toContain('authenticated and authorized by the service mesh');
  });

  it('leaves TLS to the sidecar: a TLS client gets no handshake from the service', async () => {
    const socket = connect({
      host: '127.0.0.1',
      port: system.port('order'),
      servername: 'order',
      rejectUnauthorized: false,
    });
    try {
      const [error] = (await once(socket, 'error')) as [Error];
      expect(error.message).toMatch(
        /wrong version number|socket disconnected|ECONNRESET|packet length/i,
      );
    } finally {
      socket.destroy();
    }
  });

  it('still verifies the token at every hop: no token is 401, a forged one is 401', async () => {
    await expect(
      rawCall(system.port('order'), 'plaintext', ORDER_PATTERNS.list, {}),
    ).rejects.toMatchObject({ status: 401 });

    const forged = `${aliceForOrder.slice(0, -4)}AAAA`;
    await expect(
      rawCall(system.port('order'), 'plaintext', ORDER_PATTERNS.list, {}, { token: forged }),
    ).rejects.toMatchObject({ status: 401 });

    await expect(
      rawCall(system.port('order'), 'plaintext', ORDER_PATTERNS.list, {}, { token: aliceForOrder }),
    ).resolves.toMatchObject({ items: expect.any(Array) });
  });

  it("still applies each handler's rules: payment's event needs payment's own token, not a user's", async () => {
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: aliceToken,
      body: { items: [{ sku: 'book-2', quantity: 1 }] },
    });
    const event = { orderId: created.body.id, paymentId: '00000000-0000-4000-8000-000000000000' };

    await expect(
      rawCall(system.port('order'), 'plaintext', ORDER_PATTERNS.paymentCompleted, event, {
        token: aliceForOrder,
      }),
    ).rejects.toMatchObject({ status: 403 });
    const order = await request<Order>(system.gatewayUrl, 'GET', `/api/orders/${created.body.id}`, {
      token: aliceToken,
    });
    expect(order.body.status).toBe('PENDING');
  });
});
