import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import {
  closedWithin,
  createCertificateAuthority,
  expiringShortly,
  issueServiceCertificate,
} from '@acme/transport/testing';
import { listenMutualTls } from './mtls-listener';

describe(listenMutualTls.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-server-mtls-listener-'));
  const file = (name: string) => join(dir, name);
  let server: Server;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('mtls listener test CA');
    const issuer = await issueServiceCertificate(ca, 'auth-server', 'acme.test');
    const order = await issueServiceCertificate(ca, 'order', 'acme.test', expiringShortly());
    writeFileSync(file('ca.crt'), ca.certPem);
    writeFileSync(file('auth-server.crt'), issuer.certPem);
    writeFileSync(file('auth-server.key'), issuer.keyPem);
    writeFileSync(file('order.crt'), order.certPem);
    writeFileSync(file('order.key'), order.keyPem);
    server = await listenMutualTls(
      {
        host: '127.0.0.1',
        port: 0,
        url: 'https://localhost',
        trustDomain: 'acme.test',
        caFile: file('ca.crt'),
        certFile: file('auth-server.crt'),
        keyFile: file('auth-server.key'),
      },
      (_request, response) => response.end(),
    );
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ends a connection when the client's certificate expires: no token is bound to it after", async () => {
    const client = connect({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      servername: 'localhost',
      ca: readFileSync(file('ca.crt')),
      cert: readFileSync(file('order.crt')),
      key: readFileSync(file('order.key')),
      minVersion: 'TLSv1.3',
    });
    try {
      await once(client, 'secureConnect');
      await closedWithin(client, 8_000);
    } finally {
      client.destroy();
    }
  }, 15_000);
});
