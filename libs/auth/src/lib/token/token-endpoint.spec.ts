import { hash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { TlsMaterial } from '@acme/transport';
import {
  createCertificateAuthority,
  issueServiceCertificate,
  issueTlsMaterial,
} from '@acme/transport/testing';
import { TokenEndpoint } from './token-endpoint';

const ISSUER = 'http://issuer.test';

/** What the mutual-TLS token endpoint saw of each request. */
interface Seen {
  thumbprint: string | undefined;
  authorization: string | undefined;
  form: URLSearchParams;
}

describe(TokenEndpoint.name, () => {
  let orderTls: TlsMaterial;
  let server: Server;
  let alias: string;
  const seen: Seen[] = [];
  /** Answer with `Connection: close`, so that each request needs a connection of its own. */
  let closeEachConnection = false;
  let connections = 0;

  /** Discovery and the plain token endpoint, answered without a network; records plain posts. */
  const plainPosts: string[] = [];
  const discoveryFetch =
    (metadata: Record<string, unknown>): typeof fetch =>
    (input, init) => {
      const url = String(input);
      if (url.endsWith('/.well-known/openid-configuration')) {
        return Promise.resolve(
          Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, ...metadata }),
        );
      }
      plainPosts.push(url);
      expect(init?.method).toBe('POST');
      return Promise.resolve(Response.json({ access_token: 'plain-token', expires_in: 60 }));
    };

  beforeAll(async () => {
    const ca = await createCertificateAuthority('token endpoint test CA');
    const serverCert = await issueServiceCertificate(ca, 'auth-server', 'acme.test');
    orderTls = await issueTlsMaterial(ca, 'order', 'acme.test');
    server = createServer(
      {
        ca: ca.certPem,
        cert: serverCert.certPem,
        key: serverCert.keyPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const peer = (request.socket as TLSSocket).getPeerX509Certificate();
          seen.push({
            thumbprint: peer && hash('sha256', peer.raw, 'base64url'),
            authorization: request.headers.authorization,
            form: new URLSearchParams(Buffer.concat(chunks).toString()),
          });
          response.writeHead(200, {
            'content-type': 'application/json',
            ...(closeEachConnection ? { connection: 'close' } : {}),
          });
          response.end(JSON.stringify({ access_token: 'bound-token', expires_in: 120 }));
        });
      },
    );
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    alias = `https://localhost:${(server.address() as AddressInfo).port}/token`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    seen.length = 0;
    plainPosts.length = 0;
  });

  const client = (tls?: TlsMaterial) => ({
    issuer: ISSUER,
    clientId: 'order',
    clientSecret: 's3cret',
    timeoutMs: 2_000,
    ...(tls ? { tls } : {}),
  });

  /** An endpoint of an issuer that offers a mutual-TLS alias of its token endpoint. */
  const withMtlsAlias = (authentication: ReturnType<typeof client>) =>
    new TokenEndpoint(
      authentication,
      discoveryFetch({
        token_endpoint: `${ISSUER}/token`,
        mtls_endpoint_aliases: { token_endpoint: alias },
      }),
    );

  it("posts to the issuer's mtls_endpoint_aliases over mutual TLS, presenting the certificate", async () => {
    const endpoint = withMtlsAlias(client(orderTls));

    await expect(endpoint.request({ grant_type: 'client_credentials' })).resolves.toEqual({
      accessToken: 'bound-token',
      expiresInSec: 120,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0].thumbprint).toBe(
      hash('sha256', new X509Certificate(orderTls.cert).raw, 'base64url'),
    );
    expect(seen[0].authorization).toBe(`Basic ${Buffer.from('order:s3cret').toString('base64')}`);
    expect(seen[0].form.get('grant_type')).toBe('client_credentials');
    expect(plainPosts).toEqual([]);
  });

  it('builds its TLS context once, not again for each new connection to the issuer', async () => {
    const endpoint = withMtlsAlias(client(orderTls));
    const connects = jest.spyOn(tls, 'connect');
    closeEachConnection = true;
    const connectionsBefore = connections;
    let contexts: unknown[];
    try {
      for (let i = 0; i < 3; i++) await endpoint.request({ grant_type: 'client_credentials' });
      contexts = connects.mock.calls.map(
        ([options]) => (options as tls.ConnectionOptions).secureContext,
      );
    } finally {
      closeEachConnection = false;
      connects.mockRestore();
    }

    expect(connections - connectionsBefore).toBe(3);
    expect(seen).toHaveLength(3);
    // Each connection is handed the one context: without it, Node builds one per connection.
    expect(contexts).toHaveLength(3);
    expect(contexts[0]).toBeDefined();
    expect(new Set(contexts).size).toBe(1);
  });

  it('posts to the plain token endpoint without a certificate of its own', async () => {
    const endpoint = withMtlsAlias(client());

    await expect(endpoint.request({ grant_type: 'client_credentials' })).resolves.toMatchObject({
      accessToken: 'plain-token',
    });
    expect(plainPosts).toEqual([`${ISSUER}/token`]);
    expect(seen).toEqual([]);
  });

  it('posts to an http token endpoint as it is when the issuer offers no mutual TLS', async () => {
    const endpoint = new TokenEndpoint(
      client(orderTls),
      discoveryFetch({ token_endpoint: `${ISSUER}/token` }),
    );

    await expect(endpoint.request({ grant_type: 'client_credentials' })).resolves.toMatchObject({
      accessToken: 'plain-token',
    });
    expect(seen).toEqual([]);
  });

  it('refuses an alias whose server certificate the service does not trust', async () => {
    const foreign = await createCertificateAuthority('foreign CA');
    const endpoint = withMtlsAlias(client({ ...orderTls, ca: Buffer.from(foreign.certPem) }));

    await expect(endpoint.request({ grant_type: 'client_credentials' })).rejects.toThrow();
    expect(seen).toEqual([]);
  });
});
