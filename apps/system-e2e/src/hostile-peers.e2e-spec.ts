import { TestIssuer } from '@acme/auth/testing';
import { ORDER_PATTERNS } from '@acme/contracts';
import type { Order } from '@acme/contracts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { request } from './support/http';
import { rawCall } from './support/rpc';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';
import type { ServiceName } from './support/system';

const HANDSHAKE_TIMEOUT_MS = 1_000;
const INCOMPLETE_FRAME_TIMEOUT_MS = 1_000;

/** Resolves with the time it took the server to close the socket. */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  if (socket.closed) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`socket still open after ${limitMs} ms`)),
      limitMs,
    );
    socket.on('error', () => undefined);
    // Read (and drop) what the server sends, a TLS alert say: a socket that never
    // reads would not notice the server's close behind it.
    socket.resume();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/**
 * Peers that misbehave on purpose, on each service port: each attack must
 * cost the service a closed connection at most, while legitimate calls keep
 * working and memory stays bounded.
 */
describe.each<ServiceName>(['order', 'payment'])('hostile peers on the %s port', (service) => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let token: string;
  let identity: ConnectionOptions;
  const caller = service === 'order' ? 'gateway' : 'order';

  /** A legitimate call through the gateway, over the services' own persistent connections. */
  const stillServing = async () => {
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'mug-1', quantity: 1 }] },
    });
    expect(created.status).toBe(201);
    if (service === 'payment') {
      const paid = await request<Order>(
        system.gatewayUrl,
        'POST',
        `/api/orders/${created.body.id}/pay`,
        { token },
      );
      expect(paid.body).toMatchObject({ status: 'PAID' });
    }
  };

  const tlsSocket = () =>
    connectTls({ ...identity, host: '127.0.0.1', port: system.port(service) });

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, {
      env: {
        TLS_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS),
        INCOMPLETE_FRAME_TIMEOUT_MS: String(INCOMPLETE_FRAME_TIMEOUT_MS),
        IDLE_TIMEOUT_MS: '6000',
        MAX_CONNECTIONS: '100',
      },
    });
    await system.start();
    token = issuer.userToken('alice', { scope: 'orders:read orders:write' });
    identity = {
      ca: readFileSync(system.file('ca.crt')),
      cert: readFileSync(system.file(`${caller}.crt`)),
      key: readFileSync(system.file(`${caller}.key`)),
      servername: service,
    };
  });

  afterAll(async () => {
    if (process.env['E2E_DEBUG']) console.log(system.logs());
    await system?.stop();
    await issuer?.stop();
  });

  it('closes a connection that sends random bytes instead of a TLS handshake', async () => {
    const socket = connectTcp(system.port(service), '127.0.0.1');
    socket.write(randomBytes(4096));
    await closedWithin(socket, 5_000);
    await stillServing();
  });

  it('cuts a client that connects and never sends its hello, within the handshake deadline', async () => {
    const socket = connectTcp(system.port(service), '127.0.0.1');
    const elapsed = await closedWithin(socket, 10_000);
    expect(elapsed).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
    await stillServing();
  });

  it('drops an authenticated peer whose frame announces a huge length', async () => {
    const socket = tlsSocket();
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write('999999999999#{"pattern":"x"');
    await closedWithin(socket, 5_000);
    await stillServing();
  });

  it('drops a half-sent frame left open, after the incomplete-frame timeout', async () => {
    const socket = tlsSocket();
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write('60#{"pattern":"order.list","data":');
    const elapsed = await closedWithin(socket, 10_000);
    expect(elapsed).toBeGreaterThanOrEqual(INCOMPLETE_FRAME_TIMEOUT_MS - 100);
    await stillServing();
  });

  // The connection cap and the idle timeout bound what a flood costs: established
  // connections keep working, new ones wait until idle ones are closed.
  it('stays responsive with hundreds of idle TLS connections, and keeps memory bounded', async () => {
    const process = system.processes.get(service);
    const before = process?.rssBytes() ?? 0;
    await stillServing(); // the services' own connections are established and fresh
    const sockets = Array.from({ length: 300 }, () => tlsSocket());
    for (const socket of sockets) socket.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await stillServing();
    const during = process?.rssBytes() ?? 0;
    expect(during - before).toBeLessThan(100 * 1024 * 1024);
    // Beyond MAX_CONNECTIONS the server refuses, and the idle timeout closes the rest.
    await Promise.all(sockets.map((socket) => closedWithin(socket, 20_000)));
    await stillServing();
    await new Promise((resolve) => setTimeout(resolve, 500));
  });

  it('answers garbage inside a valid frame with 400, not a crash', async () => {
    await expect(
      rawCall(
        system.port(service),
        identity,
        service === 'order' ? ORDER_PATTERNS.get : 'payment.charge',
        'not-an-object',
        {
          token,
          envelope: false,
        },
      ),
    ).rejects.toMatchObject({ status: 400 });
    await stillServing();
  });
});
