import { hash, randomBytes } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { TcpContext } from '@nestjs/microservices';
import type { TcpSocket } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import passport from 'passport';
import type { MessageMeta } from '@acme/transport';
import { InvalidTokenException } from '../auth.errors';
import { AuthModule } from '../auth.module';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { getPrincipal } from '../context/principal.context';
import { Public } from '../decorators/auth.decorators';
import { CurrentUser } from '../decorators/current-user.decorator';
import type { Principal } from '../principal';
import {
  eventContext,
  rejection,
  rpcContext as rpc,
  testVerifier,
} from '../testing/guard-contexts';
import { createDpopKey, dpopProof } from '../testing/dpop-client';
import { TestIssuer } from '../testing/test-issuer';
import { DpopNonces } from '../token/dpop-nonce';
import { JwtAuthGuard } from './jwt-auth.guard';

const AUDIENCE = 'urn:acme:orders';

@Controller('orders')
class OrdersController {
  @Get('mine')
  mine(@CurrentUser() user: Principal): Pick<Principal, 'kind' | 'subject' | 'roles'> {
    return { kind: user.kind, subject: user.subject, roles: user.roles };
  }

  @Public() // probed by the load balancer, which has no token
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

/** A message whose metadata is `meta`, received by SecureTcpServer. */
const rpcContext = (handler: keyof OrdersController & string, meta: MessageMeta) =>
  rpc(OrdersController, handler, { meta });

/** The orders controller behind AuthModule with `auth`, on Fastify on a free port of 127.0.0.1. */
async function startHttpApp(auth: AuthOptions): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [AuthModule.forRootAsync({ useFactory: () => auth })],
    controllers: [OrdersController],
  }).compile();
  const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

describe(JwtAuthGuard.name, () => {
  let issuer: TestIssuer;
  let options: AuthOptions;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    options = {
      ...DEFAULT_AUTH_OPTIONS,
      issuer: issuer.issuer,
      audience: AUDIENCE,
      serviceName: 'order',
      trustDomain: 'acme.internal',
      jwksCooldownMs: 1_000,
    };
  });

  afterAll(() => issuer.stop());

  describe('over RPC: the token in the message metadata', () => {
    let guard: JwtAuthGuard;

    beforeAll(() => {
      guard = new JwtAuthGuard(testVerifier(issuer, AUDIENCE, options), options);
    });

    it('verifies a valid bearer token and sets the principal for getPrincipal', async () => {
      const context = rpcContext('mine', {
        authorization: `Bearer ${issuer.userToken('alice', { roles: ['user'] })}`,
      });

      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(getPrincipal(context)).toMatchObject({
        kind: 'user',
        subject: 'alice',
        roles: ['user'],
      });
    });

    it('lets a message whose token it verified before through at once, without a promise', async () => {
      const token = issuer.userToken('alice', { roles: ['user'] });
      const message = () => rpcContext('mine', { authorization: `Bearer ${token}` });
      await guard.canActivate(message());

      const again = message();
      expect(guard.canActivate(again)).toBe(true);
      expect(getPrincipal(again)).toMatchObject({ kind: 'user', subject: 'alice' });
    });

    it('returns 401 asking for a token when the metadata carries none', async () => {
      const context = rpcContext('mine', {});

      expect((await rejection(() => guard.canActivate(context))).getResponse()).toEqual({
        statusCode: 401,
        error: 'unauthorized',
        message: 'a bearer token is required',
      });
      expect(getPrincipal(context)).toBeUndefined();
    });

    it('accepts the scheme in any case, as passport-jwt does over HTTP, so a forwarded header verifies on every hop', async () => {
      const context = rpcContext('mine', { authorization: `bearer ${issuer.userToken('alice')}` });

      await expect(guard.canActivate(context)).resolves.toBe(true);
    });

    it.each(['Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer not-a-jwt', 'Bearer a.b.c extra'])(
      'returns 401 for a garbled authorization %j',
      async (authorization) => {
        const denied = await rejection(() =>
          guard.canActivate(rpcContext('mine', { authorization })),
        );

        expect(denied).toBeInstanceOf(InvalidTokenException);
        expect(denied.getStatus()).toBe(401);
      },
    );

    it('returns 401 invalid_token saying why a token was refused', async () => {
      const expired = issuer.userToken('alice', { expiresIn: -3_600 });

      const denied = await rejection(() =>
        guard.canActivate(rpcContext('mine', { authorization: `Bearer ${expired}` })),
      );

      expect(denied).toBeInstanceOf(InvalidTokenException);
      expect(denied.getResponse()).toEqual({
        statusCode: 401,
        error: 'invalid_token',
        message: 'token expired',
      });
      expect(denied).toMatchObject({ check: 'expired' });
    });

    it('returns 401 for a message that did not come through SecureTcpServer', async () => {
      const context = new ExecutionContextHost(
        [{}, new TcpContext([{} as TcpSocket, 'orders.mine'])],
        OrdersController,
        OrdersController.prototype.mine,
      );
      context.setType('rpc');

      expect((await rejection(() => guard.canActivate(context))).getResponse()).toMatchObject({
        statusCode: 401,
        message: 'unsupported transport',
      });
    });

    it("makes a signed event's producer the principal: a service with no scopes or roles", () => {
      const context = eventContext(OrdersController, 'mine', {
        producer: 'spiffe://acme.internal/payment',
        id: 'event-7',
        actor: 'alice',
      });

      expect(guard.canActivate(context)).toBe(true);
      expect(getPrincipal(context)).toMatchObject({
        kind: 'service',
        service: 'payment',
        roles: [],
        scopes: [],
        tokenId: 'event-7',
        claims: { actor: 'alice' },
      });
    });

    it('returns 401 to an event of another trust domain', async () => {
      const context = eventContext(OrdersController, 'mine', {
        producer: 'spiffe://evil.example/payment',
      });

      expect((await rejection(() => guard.canActivate(context))).getStatus()).toBe(401);
    });

    it('lets a message to a @Public() handler through without a token', () => {
      const context = rpcContext('health', {});

      expect(guard.canActivate(context)).toBe(true);
      expect(getPrincipal(context)).toBeUndefined();
    });
  });

  describe('over RPC: certificate-bound tokens (RFC 8705)', () => {
    /** A mutual-TLS socket whose verified peer certificate's DER is `der`. */
    const peerWith = (der: string): TLSSocket =>
      Object.assign(Object.create(TLSSocket.prototype) as TLSSocket, {
        authorized: true,
        getPeerX509Certificate: () => ({ raw: Buffer.from(der) }),
      });
    const thumbprint = (der: string) => hash('sha256', Buffer.from(der), 'base64url');
    const bound = (der: string) =>
      issuer.sign({
        claims: {
          sub: 'order',
          client_id: 'order',
          scope: 'payments:charge',
          cnf: { 'x5t#S256': thumbprint(der) },
        },
      });
    const call = async (guard: JwtAuthGuard, token: string, socket: TLSSocket) =>
      guard.canActivate(
        rpc(OrdersController, 'mine', { meta: { authorization: `Bearer ${token}` }, socket }),
      );
    const guardWith = (overrides: Partial<AuthOptions>) => {
      const withOverrides = { ...options, ...overrides };
      return new JwtAuthGuard(testVerifier(issuer, AUDIENCE, withOverrides), withOverrides);
    };

    it('accepts a token bound to the certificate of the peer that sent it', async () => {
      await expect(
        call(guardWith({}), bound('cert-of-order'), peerWith('cert-of-order')),
      ).resolves.toBe(true);
    });

    it('refuses with invalid_token a bound token sent over a connection with another certificate', async () => {
      const error = await call(
        guardWith({}),
        bound('cert-of-order'),
        peerWith('cert-of-gateway'),
      ).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(InvalidTokenException);
      expect(error).toMatchObject({
        check: 'certificate_binding',
        response: { error: 'invalid_token' },
      });
    });

    it('refuses at once a bound token it verified before, sent again over another connection', async () => {
      const guard = guardWith({});
      const token = bound('cert-of-order');
      await expect(call(guard, token, peerWith('cert-of-order'))).resolves.toBe(true);

      const fromGateway = rpc(OrdersController, 'mine', {
        meta: { authorization: `Bearer ${token}` },
        socket: peerWith('cert-of-gateway'),
      });
      expect(() => guard.canActivate(fromGateway)).toThrow(InvalidTokenException);
    });

    it('refuses a bound token behind a mesh, where the peer certificate stays in the sidecar', async () => {
      await expect(
        call(
          guardWith({ peerIdentity: 'mesh' }),
          bound('cert-of-order'),
          peerWith('cert-of-order'),
        ),
      ).rejects.toMatchObject({ check: 'certificate_binding' });
    });

    it('refuses an unbound token when bound tokens are required, and takes it when not', async () => {
      const unbound = issuer.serviceToken('order', 'payments:charge', AUDIENCE);

      await expect(
        call(
          guardWith({ requireCertificateBoundTokens: true }),
          unbound,
          peerWith('cert-of-order'),
        ),
      ).rejects.toMatchObject({ check: 'certificate_binding' });
      await expect(
        call(
          guardWith({ requireCertificateBoundTokens: false }),
          unbound,
          peerWith('cert-of-order'),
        ),
      ).resolves.toBe(true);
    });
  });

  describe('over HTTP with DPoP server nonces, in a real app', () => {
    const secret = randomBytes(32);
    const nonces = new DpopNonces(secret, 60);
    const key = createDpopKey();
    const origin = 'https://api.acme.test';
    let app: INestApplication;
    let url: string;

    /** GET /orders/mine with alice's DPoP-bound token and a proof carrying `nonce`. */
    const getWithNonce = (nonce: string) => {
      const token = issuer.userToken('alice', { roles: ['user'], dpopKey: key });
      return fetch(`${url}/orders/mine`, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: dpopProof(key, {
            method: 'GET',
            url: `${origin}/orders/mine`,
            accessToken: token,
            nonce,
          }),
        },
      });
    };

    beforeAll(async () => {
      const dpop = {
        mode: 'required' as const,
        publicOrigin: origin,
        maxAgeSec: 60,
        algorithms: ['ES256' as const],
        nonceSecret: secret,
      };
      ({ app, url } = await startHttpApp({ ...options, dpop }));
    });

    afterAll(() => app.close());

    it('answers a proof with the current nonce without sending another', async () => {
      const response = await getWithNonce(nonces.current());
      expect(response.status).toBe(200);
      expect(response.headers.get('dpop-nonce')).toBeNull();
    });

    it('sends the next nonce (DPoP-Nonce) with the answer to a proof whose nonce is expiring', async () => {
      const response = await getWithNonce(nonces.current(Date.now() - 60_000));
      expect(response.status).toBe(200);
      expect(response.headers.get('dpop-nonce')).toBe(nonces.current());
    });
  });

  describe('over HTTP: passport-jwt with the shared verifier, in a real app', () => {
    let app: INestApplication;
    let url: string;

    const get = async (path: string, token?: string) => {
      const response = await fetch(`${url}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };

    beforeAll(async () => {
      ({ app, url } = await startHttpApp(options));
    });

    afterAll(() => app.close());

    it("hands passport its own options only, not AuthModule's", async () => {
      // No session, the principal on request.user: nothing of AuthModule's options, which
      // @nestjs/passport's AuthGuard once spread into passport's on every request (50 us).
      const authenticate = jest.spyOn(passport, 'authenticate');
      try {
        expect((await get('/orders/mine', issuer.userToken('alice'))).status).toBe(200);
        expect(authenticate.mock.calls.map((call) => call[1])).toEqual([
          { session: false, property: 'user' },
        ]);
      } finally {
        authenticate.mockRestore();
      }
    });

    it('hands the principal of a valid token to the handler', async () => {
      await expect(
        get('/orders/mine', issuer.userToken('alice', { roles: ['user'] })),
      ).resolves.toEqual({
        status: 200,
        body: { kind: 'user', subject: 'alice', roles: ['user'] },
      });
    });

    it('returns 401 without a token', async () => {
      await expect(get('/orders/mine')).resolves.toEqual({
        status: 401,
        body: { statusCode: 401, error: 'unauthorized', message: 'a bearer token is required' },
      });
    });

    it('returns 401 invalid_token for an expired token', async () => {
      await expect(
        get('/orders/mine', issuer.userToken('alice', { expiresIn: -3_600 })),
      ).resolves.toEqual({
        status: 401,
        body: { statusCode: 401, error: 'invalid_token', message: 'token expired' },
      });
    });

    it('returns 401 invalid_token for a token of another audience', async () => {
      const token = issuer.sign({ claims: { aud: 'urn:acme:payments' } });

      await expect(get('/orders/mine', token)).resolves.toEqual({
        status: 401,
        body: { statusCode: 401, error: 'invalid_token', message: 'wrong audience' },
      });
    });

    it('returns 401 invalid_token for a token the verifier refuses before any signature check', async () => {
      const token = issuer.sign({ header: { typ: 'JWT' } });

      await expect(get('/orders/mine', token)).resolves.toMatchObject({
        status: 401,
        body: { error: 'invalid_token', message: 'token type "JWT" is not an access token' },
      });
    });

    it('returns 401 invalid_token for a token missing a claim the verifier requires', async () => {
      const token = issuer.sign({ claims: { client_id: undefined } });

      await expect(get('/orders/mine', token)).resolves.toMatchObject({
        status: 401,
        body: { error: 'invalid_token', message: 'missing claim client_id' },
      });
    });

    it('accepts the scheme in any case (RFC 7235)', async () => {
      const response = await fetch(`${url}/orders/mine`, {
        headers: { authorization: `bearer ${issuer.userToken('alice')}` },
      });

      expect(response.status).toBe(200);
    });

    it('serves a @Public() route without a token', async () => {
      await expect(get('/orders/health')).resolves.toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('returns 401 invalid_token for a certificate-bound token: HTTP carries no client certificate', async () => {
      const token = issuer.sign({
        claims: { cnf: { 'x5t#S256': 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg' } },
      });

      await expect(get('/orders/mine', token)).resolves.toEqual({
        status: 401,
        body: {
          statusCode: 401,
          error: 'invalid_token',
          message: 'the token is bound to a certificate and this connection presents none',
        },
      });
    });
  });
});
