import { hash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createCertificateAuthority, issueServiceCertificate } from '@acme/transport/testing';
import { loginWithPkce } from '../testing/oidc-client';
import { basicAuth, decodeJwt, getJson, postForm } from '../testing/http';
import { startTestServer, type TestServer } from '../testing/test-server';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../oidc/token-exchange';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/**
 * RFC 8705 at the real auth server: services ask for tokens over its
 * mutual-TLS listener, and every token they get is bound to the certificate
 * they presented; over plain HTTP they get none.
 */
describe('certificate-bound service tokens (RFC 8705)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-server-mtls-'));
  const file = (name: string) => join(dir, name);
  let server: TestServer;
  let mtlsUrl: string;
  let metricsUrl: string;
  let alice: string;

  const secretOf = (clientId: string) =>
    readFileSync(join(server.config.clientSecretsDir, `${clientId}.client-secret`), 'utf8').trim();
  const thumbprintOf = (service: string) =>
    hash('sha256', new X509Certificate(readFileSync(file(`${service}.crt`))).raw, 'base64url');

  /** A form posted over mutual TLS with `service`'s certificate (none when undefined). */
  const postMtls = (
    path: string,
    form: Record<string, string>,
    headers: Record<string, string>,
    service: string | undefined,
  ) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const body = new URLSearchParams(form).toString();
      const outgoing = request(
        `${mtlsUrl}${path}`,
        {
          method: 'POST',
          ca: readFileSync(file('ca.crt')),
          ...(service
            ? {
                cert: readFileSync(file(`${service}.crt`)),
                key: readFileSync(file(`${service}.key`)),
              }
            : {}),
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          agent: false,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const metricsText = async () => (await fetch(metricsUrl)).text();

  const clientCredentialsAs = (service: string, over: string | undefined) =>
    postMtls(
      '/token',
      { grant_type: 'client_credentials', scope: 'payments:charge' },
      basicAuth(service, secretOf(service)),
      over,
    );

  const exchangeAs = (service: string, over: string | undefined, audience: string) =>
    postMtls(
      '/token',
      {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: alice,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience,
      },
      basicAuth(service, secretOf(service)),
      over,
    );

  beforeAll(async () => {
    const ca = await createCertificateAuthority('auth-server test CA');
    writeFileSync(file('ca.crt'), ca.certPem);
    for (const service of ['auth-server', 'gateway', 'order']) {
      const issued = await issueServiceCertificate(ca, service, 'acme.test');
      writeFileSync(file(`${service}.crt`), issued.certPem);
      writeFileSync(file(`${service}.key`), issued.keyPem);
    }
    // Same CA, same service name, another trust domain: not order's identity here.
    const elsewhere = await issueServiceCertificate(ca, 'order', 'elsewhere.test');
    writeFileSync(file('order.elsewhere.crt'), elsewhere.certPem);
    writeFileSync(file('order.elsewhere.key'), elsewhere.keyPem);
    const port = await freePort();
    const metricsPort = await freePort();
    mtlsUrl = `https://localhost:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    server = await startTestServer({
      MTLS_PORT: String(port),
      MTLS_URL: mtlsUrl,
      TRUST_DOMAIN: 'acme.test',
      METRICS_PORT: String(metricsPort),
      TLS_CA_FILE: file('ca.crt'),
      TLS_CERT_FILE: file('auth-server.crt'),
      TLS_KEY_FILE: file('auth-server.key'),
    });
    ({ access_token: alice } = await loginWithPkce({
      issuer: server.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid orders:read orders:write',
    }));
  });
  afterAll(() => server.close());

  it('publishes the mutual-TLS token endpoint and certificate-bound tokens in discovery', async () => {
    const discovery = await getJson(`${server.issuer}/.well-known/openid-configuration`);

    expect(discovery).toMatchObject({
      tls_client_certificate_bound_access_tokens: true,
      mtls_endpoint_aliases: { token_endpoint: `${mtlsUrl}/token` },
      token_endpoint: `${server.issuer}/token`,
    });
  });

  it("binds a client-credentials token to the requesting service's certificate", async () => {
    const { status, body } = await clientCredentialsAs('order', 'order');

    expect(status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(decodeJwt(body.access_token as string).payload).toMatchObject({
      sub: 'order',
      cnf: { 'x5t#S256': thumbprintOf('order') },
    });
  });

  it('binds an exchanged token to the certificate of the service that asked for it', async () => {
    const { status, body } = await exchangeAs('gateway', 'gateway', 'urn:acme:order');

    expect(status).toBe(200);
    expect(decodeJwt(body.access_token as string).payload).toMatchObject({
      sub: 'alice',
      aud: 'urn:acme:order',
      act: { sub: 'gateway' },
      cnf: { 'x5t#S256': thumbprintOf('gateway') },
    });
  });

  describe("refuses a client's secret over another service's certificate, and issues nothing", () => {
    it("client credentials of order asked for over the gateway's certificate", async () => {
      const { status, body } = await clientCredentialsAs('order', 'gateway');

      expect({ status, body }).toEqual({
        status: 401,
        body: { error: 'invalid_client', error_description: 'client authentication failed' },
      });
    });

    it("an exchange by the gateway over order's certificate", async () => {
      const { status, body } = await exchangeAs('gateway', 'order', 'urn:acme:order');

      expect(status).toBe(401);
      expect(body).toEqual({
        error: 'invalid_client',
        error_description: 'client authentication failed',
      });
    });

    it("a certificate of order's name in another trust domain", async () => {
      const { status, body } = await clientCredentialsAs('order', 'order.elsewhere');

      expect(status).toBe(401);
      expect(body).not.toHaveProperty('access_token');
    });

    it('audits and counts each refusal with both identities', async () => {
      const before = server.audits.length;

      await clientCredentialsAs('order', 'gateway');

      expect(server.audits.slice(before)).toEqual([
        expect.objectContaining({
          event: 'authz_fail',
          principal: 'service:order',
          caller: 'spiffe://acme.test/gateway',
          action: 'POST /token',
          reason:
            'client order presented the certificate of spiffe://acme.test/gateway, not of spiffe://acme.test/order',
        }),
      ]);
      expect(await metricsText()).toMatch(
        /^acme_auth_server_certificate_mismatch_total\{client="order"\} [1-9]/m,
      );
    });
  });

  it('gives a service no token over plain HTTP, neither by client credentials nor by exchange', async () => {
    const credentials = await postForm(
      `${server.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'payments:charge' },
      basicAuth('order', secretOf('order')),
    );
    const exchanged = await postForm(
      `${server.issuer}/token`,
      {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: alice,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: 'urn:acme:order',
      },
      basicAuth('gateway', secretOf('gateway')),
    );

    for (const refused of [credentials, exchanged]) {
      expect(refused).toMatchObject({
        status: 400,
        // oidc-provider keeps the detail (no certificate) out of the answer.
        body: { error: 'invalid_grant' },
      });
    }
  });

  it('refuses a connection without a client certificate', async () => {
    await expect(clientCredentialsAs('order', undefined)).rejects.toThrow();
  });

  it('refuses a certificate of another CA', async () => {
    const foreign = await issueServiceCertificate(
      await createCertificateAuthority('foreign CA'),
      'order',
      'acme.test',
    );
    const handshake = new Promise<void>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: Number(new URL(mtlsUrl).port),
        servername: 'localhost',
        ca: readFileSync(file('ca.crt')),
        cert: foreign.certPem,
        key: foreign.keyPem,
      });
      socket.on('secureConnect', () => socket.write('GET /token HTTP/1.1\r\nhost: x\r\n\r\n'));
      socket.on('data', () => resolve());
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('closed')));
    });

    await expect(handshake).rejects.toThrow();
  });

  it('serves nothing but the token endpoint over mutual TLS', async () => {
    const { status } = await postMtls('/token/introspection', {}, {}, 'order');

    expect(status).toBe(404);
  });
});
