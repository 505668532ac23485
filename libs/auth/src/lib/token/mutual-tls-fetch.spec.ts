import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mtlsServerOptions } from '@acme/transport';
import type { TlsMaterial } from '@acme/transport';
import {
  closedWithin,
  createCertificateAuthority,
  expiringShortly,
  issueTlsMaterial,
} from '@acme/transport/testing';
import { mutualTlsFetch } from './mutual-tls-fetch';

describe(mutualTlsFetch.name, () => {
  let orderTls: TlsMaterial;
  let server: Server;
  let url: string;
  /** Answer with `Connection: close`, so that each request needs a connection of its own. */
  let closeEachConnection = false;
  const post = (fetchOf: ReturnType<typeof mutualTlsFetch>) =>
    fetchOf(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(2_000),
    });

  beforeAll(async () => {
    const ca = await createCertificateAuthority('mutual TLS fetch test CA');
    const issuerTls = await issueTlsMaterial(ca, 'auth-server', 'acme.test', expiringShortly());
    orderTls = await issueTlsMaterial(ca, 'order', 'acme.test');
    server = createServer(mtlsServerOptions(issuerTls, 'TLSv1.3'), (_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/json',
        ...(closeEachConnection ? { connection: 'close' } : {}),
      });
      response.end('{"access_token":"bound-token"}');
    });
    // The issuer would keep the connection for a minute: only the client ends it sooner.
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `https://localhost:${(server.address() as AddressInfo).port}/token`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  // Runs first: the issuer's certificate expires seconds after it was issued.
  it("resumes no TLS session: every connection's handshake checks the issuer's certificate", async () => {
    const resumed: boolean[] = [];
    const onConnection = (socket: TLSSocket) => resumed.push(socket.isSessionReused());
    server.on('secureConnection', onConnection);
    closeEachConnection = true;
    try {
      const fetchOf = mutualTlsFetch(orderTls);
      for (let i = 0; i < 2; i++) {
        expect((await post(fetchOf)).status).toBe(200);
      }
    } finally {
      closeEachConnection = false;
      server.off('secureConnection', onConnection);
    }
    expect(resumed).toEqual([false, false]);
  });

  it("ends a kept-alive connection to the issuer when the issuer's certificate expires", async () => {
    const accepted = once(server, 'secureConnection') as Promise<[TLSSocket]>;
    const response = await post(mutualTlsFetch(orderTls));
    await expect(response.json()).resolves.toEqual({ access_token: 'bound-token' });

    const [issuerEnd] = await accepted;
    await closedWithin(issuerEnd, 8_000);
  }, 15_000);
});
