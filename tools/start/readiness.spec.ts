import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { PROBES, probe, probesFor, readyLine, waitUntilReady } from './readiness.mjs';

function listen<T extends Server | HttpServer>(server: T, port = 0): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
const portOf = (server: Server | HttpServer) => (server.address() as AddressInfo).port;
const close = (server: Server | HttpServer) =>
  new Promise<void>((resolve) => server.close(() => resolve()));

/** A port nothing listens on: one the kernel just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = await listen(createTcpServer());
  const port = portOf(server);
  await close(server);
  return port;
}

/** An HTTP server that answers 503 to its first `unreadyRequests` requests, then 200. */
async function warmingUp(unreadyRequests: number): Promise<{ server: HttpServer; url: string }> {
  let requests = 0;
  const server = await listen(
    createHttpServer((_request, response) => {
      requests += 1;
      response.writeHead(requests > unreadyRequests ? 200 : 503).end();
    }),
  );
  return { server, url: `http://127.0.0.1:${portOf(server)}/readyz` };
}

describe('readiness of npm start', () => {
  describe(probe.name, () => {
    it('passes an HTTP probe that answers 2xx and names the status of any other answer', async () => {
      const { server, url } = await warmingUp(1);
      try {
        expect(await probe(url)).toBe('HTTP 503');
        expect(await probe(url)).toBeUndefined();
      } finally {
        await close(server);
      }
    });

    it('fails an HTTP or TCP probe of a port nothing listens on', async () => {
      const port = await closedPort();
      expect(await probe(`http://127.0.0.1:${port}/readyz`)).toBe('ECONNREFUSED');
      expect(await probe(`tcp://127.0.0.1:${port}`)).toBe('ECONNREFUSED');
    });

    it('passes a TCP probe of a port that accepts connections', async () => {
      const server = await listen(createTcpServer((socket) => socket.destroy()));
      try {
        expect(await probe(`tcp://127.0.0.1:${portOf(server)}`)).toBeUndefined();
      } finally {
        await close(server);
      }
    });

    it('fails an HTTP probe that does not answer in time', async () => {
      const server = await listen(createHttpServer(() => undefined));
      try {
        expect(await probe(`http://127.0.0.1:${portOf(server)}/readyz`, 200)).toBe('TimeoutError');
      } finally {
        server.closeAllConnections();
        await close(server);
      }
    });
  });

  describe(waitUntilReady.name, () => {
    it('resolves only once every app is ready, telling meanwhile which is not and why', async () => {
      const gateway = await warmingUp(2);
      const orderPort = await closedPort();
      const pendings: Record<string, string>[] = [];
      let order: Server | undefined;
      try {
        const ready = waitUntilReady(
          { gateway: gateway.url, order: `tcp://127.0.0.1:${orderPort}` },
          {
            intervalMs: 50,
            onPending: (pending) => {
              pendings.push(pending);
              // order starts listening only after three rounds, when the gateway is long ready
              if (pendings.length === 3)
                void listen(createTcpServer(), orderPort).then((s) => (order = s));
            },
          },
        );
        await ready;
        expect(pendings[0]).toEqual({ gateway: 'HTTP 503', order: 'ECONNREFUSED' });
        expect(pendings[2]).toEqual({ order: 'ECONNREFUSED' });
        expect(pendings.length).toBeGreaterThanOrEqual(3);
        expect(order).toBeDefined();
      } finally {
        await close(gateway.server);
        if (order) await close(order);
      }
    });

    it('stops polling when aborted', async () => {
      const polling = new AbortController();
      const ready = waitUntilReady(
        { gateway: `http://127.0.0.1:${await closedPort()}/readyz` },
        { intervalMs: 50, signal: polling.signal, onPending: () => polling.abort() },
      );
      await expect(ready).rejects.toThrow(/abort/i);
    });
  });

  describe(probesFor.name, () => {
    it('leaves order and payment to the gateway when it is served: a bare TCP probe of a TLS server is logged as a refused handshake', () => {
      expect(probesFor(['auth-server', 'gateway', 'order', 'payment', 'web'])).toEqual({
        'auth-server': PROBES['auth-server'],
        gateway: PROBES.gateway,
        web: PROBES.web,
      });
    });

    it('probes order and payment themselves when the gateway is not served', () => {
      expect(probesFor(['order', 'payment'])).toEqual({
        order: 'tcp://localhost:4001',
        payment: 'tcp://localhost:4002',
      });
    });

    it('ignores an app it has no probe for', () => {
      expect(probesFor(['web', 'inventory'])).toEqual({ web: PROBES.web });
    });
  });

  describe(readyLine.name, () => {
    it('names the web URL, the API and the next command to try when the whole system runs', () => {
      const line = readyLine(['auth-server', 'gateway', 'order', 'payment', 'web']);
      expect(line).not.toContain('\n');
      expect(line).toContain('http://localhost:4200');
      expect(line).toContain('http://localhost:3000/api');
      expect(line).toContain('npm run -s token -- --user alice');
    });

    it('offers no token command when the auth server or the gateway is not served', () => {
      expect(readyLine(['order', 'payment'])).toBe('Ready (order, payment)');
    });
  });
});
