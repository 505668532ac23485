import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import type { ConnectionOptions } from 'node:tls';
import { loginWithPkce } from '@acme/auth/testing';
import { issueServiceCertificate } from '@acme/transport/testing';
import { ORDER_PATTERNS, PAYMENT_PATTERNS } from '@acme/contracts';
import { mtlsTokenRequest, request } from './support/http';
import { createAndPayOrder } from './support/orders';
import { rawCall } from './support/rpc';
import { SecureSystem, TRUST_DOMAIN } from './support/system';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Least privilege per hop, with the real auth server and every service a real
 * process: each service accepts only tokens for its own audience, and each
 * hop exchanges the caller's token (RFC 8693) for one naming the next
 * service alone. A token that one service received is refused everywhere else.
 */
describe('token exchange at every hop', () => {
  let system: SecureSystem;
  /** alice's token for the public API, as her client holds it. */
  let alice: string;

  /** The mutual-TLS options of a peer presenting `service`'s certificate to `servername`. */
  const tlsAs = (service: string, servername: string): ConnectionOptions => ({
    ca: readFileSync(system.file('ca.crt')),
    cert: readFileSync(system.file(`${service}.crt`)),
    key: readFileSync(system.file(`${service}.key`)),
    servername,
  });

  /**
   * A token exchange at the auth server, as `clientId` with its real secret and
   * its certificate (the token is bound to it, RFC 8705).
   */
  const exchange = (
    clientId: string,
    subjectToken: string,
    audience: string,
    extra: Record<string, string> = {},
  ) =>
    mtlsTokenRequest(
      system.issuerUrl,
      clientId,
      system.clientSecrets[clientId],
      {
        grant_type: TOKEN_EXCHANGE,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN,
        audience,
        ...extra,
      },
      tlsAs(clientId, 'localhost'),
    );

  /** A client-credentials token of `clientId` for `resource`, bound to its certificate. */
  const serviceToken = async (clientId: string, scope: string, resource: string) => {
    const { status, body } = await mtlsTokenRequest(
      system.issuerUrl,
      clientId,
      system.clientSecrets[clientId],
      { grant_type: 'client_credentials', scope, resource },
      tlsAs(clientId, 'localhost'),
    );
    expect(status).toBe(200);
    return body.access_token;
  };

  /** The refusal of an RPC call, which must fail. */
  const refusal = (call: Promise<unknown>) =>
    call.then(
      () => {
        throw new Error('the call was accepted');
      },
      (error: unknown) => error,
    );

  beforeAll(async () => {
    system = new SecureSystem('auth-server');
    await system.start();
    ({ access_token: alice } = await loginWithPkce({
      issuer: system.issuerUrl,
      username: 'alice',
      password: 'alice',
      scope: 'openid orders:read orders:write',
    }));
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('serves a user through gateway -> order -> payment, each hop with its own token', async () => {
    const { created, paid } = await createAndPayOrder(system.gatewayUrl, alice, 'sticker-1');
    expect(created.status).toBe(201);
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('PAID');
  });

  it('passes on a token whose scheme came in another case, after several spaces', async () => {
    // RFC 7235: the scheme is case-insensitive and 1*SP follows it; the edge accepts this, so every hop must.
    const listed = await request(system.gatewayUrl, 'GET', '/api/orders', {
      headers: { authorization: `bearer   ${alice}` },
    });
    expect(listed.status).toBe(200);
  });

  describe("refuses a user's token at every service but the one it was issued for", () => {
    it('a token exchanged for payment, replayed at order (as if by payment) and at the gateway', async () => {
      const forOrder = await exchange('gateway', alice, 'urn:acme:order');
      const forPayment = await exchange('order', forOrder.body.access_token, 'urn:acme:payment');
      expect(forPayment.status).toBe(200);
      const token = forPayment.body.access_token;

      expect(
        await refusal(
          rawCall(
            system.port('order'),
            tlsAs('gateway', 'order'),
            ORDER_PATTERNS.list,
            {},
            { token },
          ),
        ),
      ).toMatchObject({ status: 401, error: 'invalid_token', message: 'wrong audience' });
      const atGateway = await request(system.gatewayUrl, 'GET', '/api/orders', { token });
      expect(atGateway.status).toBe(401);
      expect(atGateway.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('a token exchanged for order, replayed at the gateway and at payment', async () => {
      const { body } = await exchange('gateway', alice, 'urn:acme:order');
      const token = body.access_token;

      expect((await request(system.gatewayUrl, 'GET', '/api/orders', { token })).status).toBe(401);
      expect(
        await refusal(
          rawCall(
            system.port('payment'),
            tlsAs('order', 'payment'),
            PAYMENT_PATTERNS.charge,
            { orderId: 'o-1', amountCents: 100, currency: 'EUR' },
            { token },
          ),
        ),
      ).toMatchObject({ status: 401, message: 'wrong audience' });
    });

    it("the user's API token forwarded to order as it is, skipping the exchange", async () => {
      expect(
        await refusal(
          rawCall(
            system.port('order'),
            tlsAs('gateway', 'order'),
            ORDER_PATTERNS.list,
            {},
            {
              token: alice,
            },
          ),
        ),
      ).toMatchObject({ status: 401, message: 'wrong audience' });
    });

    it("payment's own token for order, replayed at payment", async () => {
      const token = await serviceToken('payment', 'orders:settle', 'urn:acme:order');

      expect(
        await refusal(
          rawCall(
            system.port('payment'),
            tlsAs('order', 'payment'),
            PAYMENT_PATTERNS.charge,
            { orderId: 'o-1', amountCents: 100, currency: 'EUR' },
            { token },
          ),
        ),
      ).toMatchObject({ status: 401, message: 'wrong audience' });
    });
  });

  describe('refuses a certificate-bound token (RFC 8705) over a connection with another certificate', () => {
    it("the gateway's token for order, from another certificate of the gateway's name", async () => {
      const { body } = await exchange('gateway', alice, 'urn:acme:order');
      const token = body.access_token;
      const other = await issueServiceCertificate(system.ca, 'gateway', TRUST_DOMAIN);
      const otherGateway = {
        ca: readFileSync(system.file('ca.crt')),
        cert: other.certPem,
        key: other.keyPem,
        servername: 'order',
      };

      expect(
        await refusal(
          rawCall(system.port('order'), otherGateway, ORDER_PATTERNS.list, {}, { token }),
        ),
      ).toMatchObject({
        status: 401,
        error: 'invalid_token',
        message: "the token is bound to another certificate than this connection's",
      });
      // Audited as every refused token is, with the reason.
      const reason = "the token is bound to another certificate than this connection's";
      const auditLine = (output: string) =>
        output.split('\n').find((line) => line.includes('"audit":') && line.includes(reason));
      const order = system.processes.get('order');
      await order?.waitForOutput((output) => auditLine(output) !== undefined);
      expect(JSON.parse(auditLine(order?.output ?? '') ?? '{}')).toMatchObject({
        audit: { event: 'authn_token_invalid', reason },
      });
      // The same token over the connection of the certificate it is bound to is served.
      await expect(
        rawCall(
          system.port('order'),
          tlsAs('gateway', 'order'),
          ORDER_PATTERNS.list,
          {},
          { token },
        ),
      ).resolves.toBeDefined();
    });

    it("payment's own token for order, replayed by the gateway over its connection to order", async () => {
      const token = await serviceToken('payment', 'orders:settle', 'urn:acme:order');

      expect(
        await refusal(
          rawCall(
            system.port('order'),
            tlsAs('gateway', 'order'),
            ORDER_PATTERNS.list,
            {},
            {
              token,
            },
          ),
        ),
      ).toMatchObject({
        status: 401,
        error: 'invalid_token',
        message: "the token is bound to another certificate than this connection's",
      });
    });

    it('a service token for the API, presented at the gateway over HTTP (no certificate)', async () => {
      const token = await serviceToken('payment', 'orders:settle', 'urn:acme:api');

      const response = await request(system.gatewayUrl, 'GET', '/api/orders', { token });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(response.body).toMatchObject({
        message: 'the token is bound to a certificate and this connection presents none',
      });
    });

    it('an unbound token for order, signed by the issuer itself, over the right connection', async () => {
      // A token the issuer would give a service that cannot bind: the gateway's own exchanged
      // token, its cnf stripped and signed again with the issuer's key.
      const { body } = await exchange('gateway', alice, 'urn:acme:order');
      const [encodedHeader, encodedPayload] = body.access_token.split('.');
      const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString()) as {
        kid: string;
        alg: jwt.Algorithm;
      };
      const { cnf, ...claims } = JSON.parse(
        Buffer.from(encodedPayload, 'base64url').toString(),
      ) as Record<string, unknown>;
      expect(cnf).toBeDefined();
      const { keys } = JSON.parse(
        readFileSync(system.file('auth-server-keys/signing-keys.json'), 'utf8'),
      ) as { keys: (JsonWebKey & { kid: string })[] };
      const key = keys.find((candidate) => candidate.kid === header.kid);
      if (!key) throw new Error('the signing key is not in the key file');
      const unbound = jwt.sign(claims, createPrivateKey({ key, format: 'jwk' }), {
        algorithm: header.alg,
        keyid: header.kid,
        header: { alg: header.alg, typ: 'at+jwt' },
      });

      expect(
        await refusal(
          rawCall(
            system.port('order'),
            tlsAs('gateway', 'order'),
            ORDER_PATTERNS.list,
            {},
            {
              token: unbound,
            },
          ),
        ),
      ).toMatchObject({
        status: 401,
        error: 'invalid_token',
        message: 'the token is not bound to a certificate (RFC 8705 cnf x5t#S256 required)',
      });
    });

    it("gives no token for a client's secret over another service's certificate", async () => {
      const asPayment = await mtlsTokenRequest(
        system.issuerUrl,
        'order',
        system.clientSecrets['order'],
        {
          grant_type: 'client_credentials',
          scope: 'payments:charge',
          resource: 'urn:acme:payment',
        },
        tlsAs('payment', 'localhost'),
      );
      const asOrder = await mtlsTokenRequest(
        system.issuerUrl,
        'gateway',
        system.clientSecrets['gateway'],
        {
          grant_type: TOKEN_EXCHANGE,
          subject_token: alice,
          subject_token_type: ACCESS_TOKEN,
          audience: 'urn:acme:order',
        },
        tlsAs('order', 'localhost'),
      );

      for (const refused of [asPayment, asOrder]) {
        expect(refused).toEqual({
          status: 401,
          body: { error: 'invalid_client', error_description: 'client authentication failed' },
        });
      }
      // The same secrets over their own services' certificates are served.
      await expect(
        serviceToken('order', 'payments:charge', 'urn:acme:payment'),
      ).resolves.toBeDefined();
      expect((await exchange('gateway', alice, 'urn:acme:order')).status).toBe(200);
    });

    it('gives a service no token over plain HTTP', async () => {
      const response = await fetch(`${system.issuerUrl}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`gateway:${system.clientSecrets['gateway']}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: TOKEN_EXCHANGE,
          subject_token: alice,
          subject_token_type: ACCESS_TOKEN,
          audience: 'urn:acme:order',
        }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('refuses exchanges beyond what a service is configured for', () => {
    it('the gateway asking for a token for payment, which it does not call (invalid_target)', async () => {
      const { status, body } = await exchange('gateway', alice, 'urn:acme:payment');
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_target' });
    });

    it('payment exchanging a token it received to call order as the user (invalid_request)', async () => {
      const forOrder = await exchange('gateway', alice, 'urn:acme:order');
      const forPayment = await exchange('order', forOrder.body.access_token, 'urn:acme:payment');

      const { status, body } = await exchange(
        'payment',
        forPayment.body.access_token,
        'urn:acme:order',
      );
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_request' });
    });

    it('the gateway asking for a scope the user token does not hold (invalid_scope)', async () => {
      const { status, body } = await exchange('gateway', alice, 'urn:acme:order', {
        scope: 'orders:read admin:read',
      });
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_scope' });
    });

    it('the gateway exchanging a tampered token (invalid_grant)', async () => {
      const [header, payload, signature] = alice.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
      const wider = Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url');

      const { status, body } = await exchange(
        'gateway',
        [header, wider, signature].join('.'),
        'urn:acme:order',
      );
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it("order exchanging the user's API token, which was not sent to it (invalid_grant)", async () => {
      const { status, body } = await exchange('order', alice, 'urn:acme:payment');
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    });
  });
});
