import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { createCertificateAuthority, issueServiceCertificate } from '@acme/transport/testing';
import { probe, probesFor, readyLine, waitUntilReady } from './readiness.mjs';

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

    describe('of a mutual-TLS service', () => {
      let server: Server;
      let caller: ConnectionOptions;
      let stranger: ConnectionOptions;
      let handshakes = 0;
      const target = () => `tls://localhost:${portOf(server)}`;

      beforeAll(async () => {
        const ca = await createCertificateAuthority('start CA');
        const other = await createCertificateAuthority('other CA');
        const order = await issueServiceCertificate(ca, 'order', 'acme.test');
        const gateway = await issueServiceCertificate(ca, 'gateway', 'acme.test');
        const intruder = await issueServiceCertificate(other, 'gateway', 'acme.test');
        caller = { ca: ca.certPem, cert: gateway.certPem, key: gateway.keyPem };
        stranger = { ca: ca.certPem, cert: intruder.certPem, key: intruder.keyPem };
        server = await listen(
          createTlsServer(
            {
              ca: ca.certPem,
              cert: order.certPem,
              key: order.keyPem,
              requestCert: true,
              rejectUnauthorized: true,
              minVersion: 'TLSv1.3',
            },
            // As the services do: the connection stays open until the client closes it.
            (socket) => {
              handshakes += 1;
              socket.resume().once('end', () => socket.end());
            },
          ),
        );
        server.on('tlsClientError', (_error, socket) => socket.destroy());
      });
      afterAll(() => close(server));

      it('passes when the handshake with a certificate of its CA completes', async () => {
        expect(await probe(target(), { tls: caller })).toBeUndefined();
        expect(handshakes).toBe(1);
      });

      it('fails with a certificate of another CA, or none', async () => {
        expect(await probe(target(), { tls: stranger })).toBe('handshake refused');
        expect(await probe(target(), { tls: { ca: caller.ca } })).toEqual(expect.any(String));
        expect(handshakes).toBe(1);
      });
    });

    it('fails an HTTP probe that does not answer in time', async () => {
      const server = await listen(createHttpServer(() => undefined));
      try {
        expect(await probe(`http://127.0.0.1:${portOf(server)}/readyz`, { timeoutMs: 200 })).toBe(
          'TimeoutError',
        );
      } finally {
        server.closeAllConnections();
        await close(server);
      }
    });
  });

  describe(waitUntilReady.name, () => {
    it('passes stage after stage, each once all its probes pass, telling meanwhile what is pending', async () => {
      const gateway = await warmingUp(1);
      const orderPort = await closedPort();
      const pendings: Record<string, string>[] = [];
      let order: Server | undefined;
      try {
        await waitUntilReady(
          [
            {
              gateway: `tcp://127.0.0.1:${portOf(gateway.server)}`,
              order: `tcp://127.0.0.1:${orderPort}`,
            },
            { gateway: gateway.url },
          ],
          {
            intervalMs: 50,
            onPending: (pending) => {
              pendings.push(pending);
              // order starts listening after two rounds of the first stage
              if (pendings.length === 2) {
                void listen(createTcpServer(), orderPort).then((started) => (order = started));
              }
            },
          },
        );
        expect(order).toBeDefined();
        // the gateway's readiness is asked only once order listens: its first answer is the 503
        expect(pendings.slice(0, 2)).toEqual([
          { order: 'ECONNREFUSED' },
          { order: 'ECONNREFUSED' },
        ]);
        expect(pendings.at(-1)).toEqual({ gateway: 'HTTP 503' });
        expect(await probe(gateway.url)).toBeUndefined();
      } finally {
        await close(gateway.server);
        if (order) await close(order);
      }
    });

    it('stops polling when aborted', async () => {
      const polling = new AbortController();
      const ready = waitUntilReady([{ gateway: `http://127.0.0.1:${await closedPort()}/readyz` }], {
        intervalMs: 50,
        signal: polling.signal,
        onPending: () => polling.abort(),
      });
      await expect(ready).rejects.toThrow(/abort/i);
    });
  });

  describe(probesFor.name, () => {
    it('waits for every app to listen before asking any for its readiness', () => {
      expect(probesFor(['auth-server', 'gateway', 'order', 'payment', 'web'])).toEqual([
        {
          'auth-server': 'tcp://localhost:3001',
          gateway: 'tcp://localhost:3000',
          order: 'tls://localhost:4001',
          payment: 'tls://localhost:4002',
          web: 'tcp://localhost:4200',
        },
        {
          'auth-server': 'http://localhost:3001/healthz',
          gateway: 'http://localhost:3000/healthz/dependencies',
          web: 'http://localhost:4200/',
        },
      ]);
    });

    it('ignores an app it has no probe for', () => {
      expect(probesFor(['order', 'inventory'])).toEqual([{ order: 'tls://localhost:4001' }, {}]);
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
