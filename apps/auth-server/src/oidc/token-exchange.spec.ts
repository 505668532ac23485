import { createPrivateKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { clientCredentials, loginWithPkce } from '../testing/oidc-client';
import { basicAuth, decodeJwt, getJson, postForm, verifyJwt } from '../testing/http';
import { startTestServer, type TestServer } from '../testing/test-server';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './token-exchange';

describe('token exchange (RFC 8693)', () => {
  let server: TestServer;
  let jwks: { keys: JsonWebKey[] };
  /** alice's access token for the API, as the gateway receives it. */
  let alice: string;

  const secretOf = (clientId: string) =>
    readFileSync(join(server.config.clientSecretsDir, `${clientId}.client-secret`), 'utf8').trim();

  /** A token exchange request of `clientId`, authenticated with its secret. */
  const exchange = (clientId: string, subjectToken: string, params: Record<string, string>) =>
    postForm(
      `${server.issuer}/token`,
      {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        ...params,
      },
      basicAuth(clientId, secretOf(clientId)),
    );

  /** The token `clientId` gets for `audience`; fails the test on a refusal. */
  const exchanged = async (clientId: string, subjectToken: string, audience: string) => {
    const { status, body } = await exchange(clientId, subjectToken, { audience });
    expect({ status, body }).toMatchObject({ status: 200 });
    return body.access_token as string;
  };

  /** A token signed with the server's own current key, to forge what it would never issue. */
  const signedByServer = (claims: Record<string, unknown>): string => {
    const { keys } = JSON.parse(
      readFileSync(join(server.dir, 'keys', 'signing-keys.json'), 'utf8'),
    ) as { keys: (JsonWebKey & { kid: string; alg: string })[] };
    const es256 = keys.find((key) => key.alg === 'ES256');
    if (!es256) throw new Error('no ES256 key');
    return jwt.sign(claims, createPrivateKey({ key: es256, format: 'jwk' }), {
      algorithm: 'ES256',
      keyid: es256.kid,
      header: { alg: 'ES256', typ: 'at+jwt' },
    });
  };
  const now = () => Math.floor(Date.now() / 1000);
  const aliceClaims = () => ({
    iss: server.issuer,
    sub: 'alice',
    aud: 'urn:acme:api',
    client_id: 'cli',
    scope: 'orders:read orders:write',
    roles: ['user'],
    jti: 'forged-1',
    iat: now(),
    exp: now() + 300,
  });

  beforeAll(async () => {
    server = await startTestServer();
    jwks = await getJson(`${server.issuer}/jwks`);
    ({ access_token: alice } = await loginWithPkce({
      issuer: server.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid orders:read orders:write',
    }));
  });
  afterAll(() => server.close());

  describe('issues', () => {
    it("a short-lived token for the callee alone, with the user's sub, scopes and roles, naming the caller in act", async () => {
      const { status, body } = await exchange('gateway', alice, { audience: 'urn:acme:order' });

      expect(status).toBe(200);
      expect(body).toMatchObject({
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: 120,
        scope: 'orders:read orders:write',
      });
      const { header, payload } = verifyJwt(body.access_token as string, jwks);
      expect(header.typ).toBe('at+jwt');
      expect(payload).toMatchObject({
        iss: server.issuer,
        aud: 'urn:acme:order',
        sub: 'alice',
        client_id: 'gateway',
        scope: 'orders:read orders:write',
        roles: ['user'],
        act: { sub: 'gateway' },
      });
      expect(Number(payload.exp) - Number(payload.iat)).toBe(120);
    });

    it('a token for the next hop with the actors nested, current one first', async () => {
      const forOrder = await exchanged('gateway', alice, 'urn:acme:order');
      const forPayment = await exchanged('order', forOrder, 'urn:acme:payment');

      expect(verifyJwt(forPayment, jwks).payload).toMatchObject({
        aud: 'urn:acme:payment',
        sub: 'alice',
        client_id: 'order',
        act: { sub: 'order', act: { sub: 'gateway' } },
      });
    });

    it('fewer scopes when asked for fewer, named by resource instead of audience', async () => {
      const { body } = await exchange('gateway', alice, {
        resource: 'urn:acme:order',
        scope: 'orders:read',
      });

      expect(decodeJwt(body.access_token as string).payload.scope).toBe('orders:read');
    });

    it('a token that expires with its subject token, never later', async () => {
      const expiresSoon = signedByServer({ ...aliceClaims(), exp: now() + 30 });
      const { body } = await exchange('gateway', expiresSoon, { audience: 'urn:acme:order' });

      expect(decodeJwt(body.access_token as string).payload.exp).toBeLessThanOrEqual(
        decodeJwt(expiresSoon).payload.exp as number,
      );
      expect(body.expires_in).toBeLessThanOrEqual(30);
    });
  });

  describe('refuses', () => {
    it('scopes the subject token does not hold (invalid_scope)', async () => {
      const { status, body } = await exchange('gateway', alice, {
        audience: 'urn:acme:order',
        scope: 'orders:read admin:read',
      });

      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_scope' });
    });

    it.each([
      ['a callee it is not configured to call', 'gateway', 'urn:acme:payment'],
      ['its own audience back', 'gateway', 'urn:acme:api'],
      ['an unknown audience', 'gateway', 'urn:acme:anything'],
    ])('%s (invalid_target)', async (_case, clientId, audience) => {
      const { status, body } = await exchange(clientId, alice, { audience });

      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_target' });
    });

    it('widening the audience again down the chain (invalid_target)', async () => {
      const forOrder = await exchanged('gateway', alice, 'urn:acme:order');
      const { body } = await exchange('order', forOrder, { audience: 'urn:acme:api' });

      expect(body.error).toBe('invalid_target');
    });

    it('a service that may not exchange at all: payment (invalid_request, the grant is not its)', async () => {
      const forPayment = await exchanged(
        'order',
        await exchanged('gateway', alice, 'urn:acme:order'),
        'urn:acme:payment',
      );
      const { status, body } = await exchange('payment', forPayment, {
        audience: 'urn:acme:order',
      });

      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_request' });
      expect(body.error_description).toBe('requested grant type is not allowed for this client');
    });

    it('a wrong client secret (invalid_client)', async () => {
      const { status, body } = await postForm(
        `${server.issuer}/token`,
        {
          grant_type: TOKEN_EXCHANGE_GRANT,
          subject_token: alice,
          subject_token_type: ACCESS_TOKEN_TYPE,
          audience: 'urn:acme:order',
        },
        basicAuth('gateway', 'not-the-secret'),
      );

      expect({ status, error: body.error }).toEqual({ status: 401, error: 'invalid_client' });
    });

    it.each([
      ['a token addressed to another service (replayed by a callee)', 'order', () => alice],
      [
        'a token this issuer did not sign',
        'gateway',
        () => {
          const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
          const kid = decodeJwt(alice).header.kid;
          return jwt.sign(aliceClaims(), privateKey, {
            algorithm: 'ES256',
            keyid: kid,
            header: { alg: 'ES256', typ: 'at+jwt' },
          });
        },
      ],
      [
        'a token of another issuer, signed with the right key',
        'gateway',
        () => signedByServer({ ...aliceClaims(), iss: 'https://elsewhere.example' }),
      ],
      [
        'an expired token',
        'gateway',
        () => signedByServer({ ...aliceClaims(), iat: now() - 400, exp: now() - 1 }),
      ],
      [
        'a tampered token',
        'gateway',
        () => {
          const [header, payload, signature] = alice.split('.');
          const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
          const wider = { ...claims, scope: 'orders:read orders:write admin:read' };
          return [header, Buffer.from(JSON.stringify(wider)).toString('base64url'), signature].join(
            '.',
          );
        },
      ],
      [
        'an ID token',
        'gateway',
        () => {
          const token = signedByServer(aliceClaims());
          const [, payload, signature] = token.split('.');
          const header = { ...decodeJwt(token).header, typ: 'JWT' };
          return [
            Buffer.from(JSON.stringify(header)).toString('base64url'),
            payload,
            signature,
          ].join('.');
        },
      ],
      ['not a token at all', 'gateway', () => 'not-a-jwt'],
    ])('%s as subject_token (invalid_grant)', async (_case, clientId, subjectToken) => {
      const { status, body } = await exchange(clientId, subjectToken(), {
        audience: clientId === 'order' ? 'urn:acme:payment' : 'urn:acme:order',
      });

      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it("a service's own client credentials token: it would come out as a user (invalid_grant)", async () => {
      const { access_token } = await clientCredentials({
        issuer: server.issuer,
        clientId: 'payment',
        clientSecret: secretOf('payment'),
        scope: 'orders:settle',
        resource: 'urn:acme:order',
      });
      const { body } = await exchange('order', access_token, { audience: 'urn:acme:payment' });

      expect(body.error).toBe('invalid_grant');
    });

    it.each([
      ['without audience or resource', { audience: '' }],
      [
        'for another subject_token_type',
        { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      ],
      [
        'for a refresh token',
        { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      ],
    ])('a request %s (invalid_request)', async (_case, params) => {
      const { status, body } = await exchange('gateway', alice, {
        audience: 'urn:acme:order',
        ...params,
      });

      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_request' });
    });
  });

  describe('client credentials for a callee', () => {
    it("gives a service a token for a callee's audience it is configured to call", async () => {
      const { access_token } = await clientCredentials({
        issuer: server.issuer,
        clientId: 'payment',
        clientSecret: secretOf('payment'),
        scope: 'orders:settle',
        resource: 'urn:acme:order',
      });

      expect(verifyJwt(access_token, jwks).payload).toMatchObject({
        sub: 'payment',
        aud: 'urn:acme:order',
        scope: 'orders:settle',
      });
    });

    it('refuses an audience it does not call (invalid_target)', async () => {
      const { status, body } = await postForm(
        `${server.issuer}/token`,
        { grant_type: 'client_credentials', scope: 'orders:settle', resource: 'urn:acme:payment' },
        basicAuth('payment', secretOf('payment')),
      );

      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_target' });
    });
  });
});
