import { HttpException, Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { runInCallContext, withoutCallContext } from '@acme/transport';
import { metricValue } from '@acme/transport/testing';
import type { MessageEnvelope, MessageMeta, RpcErrorBody } from '@acme/transport';
import { delay, NEVER, of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { httpCallMeta, REQUEST_ID_HEADER } from '../context/call-context';
import { setClientNetworks } from '../context/client-networks.context';
import { TestIssuer } from '../testing/test-issuer';
import { AccessTokenVerifier } from '../token/access-token.verifier';
import { JwksCache } from '../token/jwks.cache';
import { ServiceTokenProvider } from '../token/service-token.provider';
import { TokenExchanger } from '../token/token-exchanger';
import { ServiceClient } from './service-client';

const AUDIENCE = 'urn:acme:payments';
const ORDER_SECRET = 'order-secret';

/** Stands in for the mTLS ClientProxy: records each envelope it would send and answers with `reply`. */
class RecordingProxy implements Pick<ClientProxy, 'send' | 'close'> {
  readonly sent: { pattern: string; envelope: MessageEnvelope }[] = [];
  reply: () => Observable<unknown> = () => of({ ok: true });

  send<TResult, TInput>(pattern: string, envelope: TInput): Observable<TResult> {
    this.sent.push({ pattern, envelope: envelope as MessageEnvelope });
    return this.reply() as Observable<TResult>;
  }

  close(): void {
    // nothing to close
  }
}

function httpRequest(headers: Record<string, string>): { headers: Record<string, string> } {
  return { headers };
}

/** Runs `call` as a handler of a message with `meta`: in the call context its transport sets. */
function inMessage<T>(meta: MessageMeta, call: () => Promise<T>): Promise<T> {
  return runInCallContext(meta, call);
}

/** Runs `call` as the route of an HTTP request runs under runRoutesInCallContext. */
function inHandler<T>(
  request: { headers: Record<string, string> },
  call: () => Promise<T>,
): Promise<T> {
  return runInCallContext(httpCallMeta(request), call);
}

/** Awaits a call that must fail, and returns the HTTP exception it failed with. */
async function failure(call: Promise<unknown>): Promise<HttpException> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof HttpException) return error;
  throw error ?? new Error('the call succeeded');
}

describe(ServiceClient.name, () => {
  let issuer: TestIssuer;
  let proxy: RecordingProxy;
  let client: ServiceClient;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: { order: ORDER_SECRET } });
  });

  afterAll(() => issuer.stop());

  beforeEach(() => {
    proxy = new RecordingProxy();
    client = new ServiceClient('payment', proxy, 100, { audience: AUDIENCE });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('resolves with the answer of the called service', async () => {
    proxy.reply = () => of({ id: 'pay-1' });

    await expect(client.send('payments.charge', { amount: 5 })).resolves.toEqual({ id: 'pay-1' });
  });

  describe('maps failures to HTTP exceptions', () => {
    it("keeps the callee's status, code and message for an error body it answered with", async () => {
      const body: RpcErrorBody = {
        status: 403,
        error: 'insufficient_scope',
        message: 'requires scope: payments:charge',
      };
      proxy.reply = () => throwError(() => body);

      const error = await failure(client.send('payments.charge', {}));

      expect(error.getStatus()).toBe(403);
      expect(error.getResponse()).toEqual({
        statusCode: 403,
        error: 'insufficient_scope',
        message: 'requires scope: payments:charge',
      });
    });

    it('is 504 when the callee does not answer within the timeout', async () => {
      proxy.reply = () => NEVER;

      const error = await failure(client.send('payments.charge', {}));

      expect(error.getStatus()).toBe(504);
      expect(error.message).toBe('payment did not answer in time');
    });

    it.each([
      ['a dropped connection', new Error('Connection closed')],
      [
        'an answer that is not an error body',
        'There is no matching message handler defined in the remote service.',
      ],
    ])('is 503 for %s, without passing on the cause', async (_case, cause) => {
      proxy.reply = () => throwError(() => cause);

      const error = await failure(client.send('payments.charge', {}));

      expect(error.getStatus()).toBe(503);
      expect(error.getResponse()).toMatchObject({ message: 'payment is unavailable' });
    });
  });

  describe('send: on behalf of the current caller, exchanging their token (RFC 8693)', () => {
    const orderClient = () => ({
      issuer: issuer.issuer,
      clientId: 'order',
      clientSecret: ORDER_SECRET,
      timeoutMs: 2_000,
    });
    const exchanging = (exchanger = new TokenExchanger(orderClient())) =>
      new ServiceClient('payment', proxy, 100, { audience: AUDIENCE, exchanger });
    const verifier = () =>
      new AccessTokenVerifier(
        {
          ...DEFAULT_AUTH_OPTIONS,
          issuer: issuer.issuer,
          audience: AUDIENCE,
          serviceName: 'payment',
          trustDomain: 'acme.internal',
        },
        new JwksCache({
          issuer: issuer.issuer,
          cooldownMs: 1_000,
          maxAgeMs: 60_000,
          timeoutMs: 2_000,
        }),
      );

    it("sends a token for the callee's audience naming this service as actor, not the caller's", async () => {
      const authorization = `Bearer ${issuer.sign({ claims: { sub: 'alice', aud: 'urn:acme:order' } })}`;

      await inMessage({ authorization, requestId: 'req-4' }, () =>
        exchanging().send('payments.charge', {}),
      );

      const sent = proxy.sent[0].envelope.meta;
      expect(sent.requestId).toBe('req-4');
      expect(sent.authorization).not.toBe(authorization);
      await expect(
        verifier().verify((sent.authorization ?? '').replace(/^Bearer /, '')),
      ).resolves.toMatchObject({ kind: 'user', subject: 'alice', actors: ['order'] });
    });

    it('exchanges a token whose scheme came in lower case, as the guards admit it', async () => {
      const before = issuer.exchanges;
      await inMessage({ authorization: `bearer ${issuer.userToken('alice')}` }, () =>
        exchanging().send('payments.charge', {}),
      );

      expect(issuer.exchanges - before).toBe(1);
      expect(proxy.sent[0].envelope.meta.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    });

    it('exchanges a token once for concurrent and later calls', async () => {
      const client = exchanging();
      const authorization = `Bearer ${issuer.userToken('alice')}`;
      const before = issuer.exchanges;

      await inMessage({ authorization }, async () => {
        await Promise.all([client.send('payments.charge', {}), client.send('payments.get', {})]);
        await client.send('payments.get', {});
      });

      expect(issuer.exchanges - before).toBe(1);
      expect(new Set(proxy.sent.map((s) => s.envelope.meta.authorization)).size).toBe(1);
    });

    it('sends at once, without waiting a turn, with a token exchanged before', async () => {
      const client = exchanging();
      const authorization = `Bearer ${issuer.userToken('alice')}`;
      await inMessage({ authorization }, () => client.send('payments.get', {}));

      const sending = inMessage({ authorization }, () => client.send('payments.get', {}));
      const sentBeforeAnyAwait = proxy.sent.length;
      await sending;

      expect(sentBeforeAnyAwait).toBe(2);
      expect(proxy.sent[1].envelope.meta.authorization).toBe(
        proxy.sent[0].envelope.meta.authorization,
      );
    });

    it("is 401 and sends nothing when the issuer refuses the caller's token (expired)", async () => {
      const authorization = `Bearer ${issuer.userToken('alice', { expiresIn: -10 })}`;

      const error = await failure(
        inMessage({ authorization }, () => exchanging().send('payments.charge', {})),
      );

      expect(error.getStatus()).toBe(401);
      expect(proxy.sent).toEqual([]);
    });

    it('is 503 and sends nothing when the issuer cannot be reached', async () => {
      const unreachable = new TokenExchanger({
        ...orderClient(),
        issuer: 'http://127.0.0.1:9',
        timeoutMs: 500,
      });
      const authorization = `Bearer ${issuer.userToken('alice')}`;

      const error = await failure(
        inMessage({ authorization }, () => exchanging(unreachable).send('payments.charge', {})),
      );

      expect(error.getStatus()).toBe(503);
      expect(proxy.sent).toEqual([]);
    });

    it('exchanges nothing and sends nothing of the caller for a call made withoutCallContext', async () => {
      const authorization = `Bearer ${issuer.userToken('alice')}`;
      const before = issuer.exchanges;

      await inMessage({ authorization, requestId: 'req-5' }, () =>
        withoutCallContext(() => exchanging().send('health.ping', {})),
      );

      expect(proxy.sent[0].envelope.meta).toEqual({
        authorization: undefined,
        requestId: undefined,
      });
      expect(issuer.exchanges).toBe(before);
    });

    it('sends no credentials when the caller had none, nor one that is no bearer token', async () => {
      const client = exchanging();
      await client.send('payments.charge', {});
      await inMessage({ authorization: 'Basic b3JkZXI6c2VjcmV0' }, () =>
        client.send('payments.charge', {}),
      );

      expect(proxy.sent.map((s) => s.envelope.meta.authorization)).toEqual([undefined, undefined]);
    });
  });

  describe('send: on behalf of the current caller, forwarding their token (AUTH_DELEGATION=forward)', () => {
    it("forwards the HTTP request's authorization, request id and client networks beside the data", async () => {
      const authorization = `Bearer ${issuer.userToken('alice')}`;
      const request = httpRequest({ authorization, [REQUEST_ID_HEADER]: 'req-1' });

      await inHandler(request, () => {
        // As the edge's IP guard does, after the route entered the request's context.
        setClientNetworks(request, ['admin']);
        return client.send('payments.charge', { amount: 5 });
      });

      expect(proxy.sent).toEqual([
        {
          pattern: 'payments.charge',
          envelope: {
            meta: { authorization, requestId: 'req-1', clientNetworks: ['admin'] },
            data: { amount: 5 },
          },
        },
      ]);
    });

    it("forwards the incoming message's metadata on the next hop", async () => {
      const meta = { authorization: `Bearer ${issuer.userToken('alice')}`, requestId: 'req-2' };

      await inMessage(meta, () => client.send('payments.charge', {}));

      expect(proxy.sent[0].envelope.meta).toEqual(meta);
    });

    it('keeps concurrent calls apart: each forwards its own caller', async () => {
      proxy.reply = () => of({ ok: true }).pipe(delay(10));
      const [alice, bob] = [
        `Bearer ${issuer.userToken('alice')}`,
        `Bearer ${issuer.userToken('bob')}`,
      ];

      await Promise.all([
        inHandler(httpRequest({ authorization: alice, [REQUEST_ID_HEADER]: 'a' }), async () => {
          await client.send('payments.charge', {});
          return client.send('payments.refund', {});
        }),
        inHandler(httpRequest({ authorization: bob, [REQUEST_ID_HEADER]: 'b' }), async () => {
          await client.send('payments.charge', {});
          return client.send('payments.refund', {});
        }),
      ]);

      const byRequest = (id: string) =>
        proxy.sent
          .filter((s) => s.envelope.meta.requestId === id)
          .map((s) => s.envelope.meta.authorization);
      expect(byRequest('a')).toEqual([alice, alice]);
      expect(byRequest('b')).toEqual([bob, bob]);
    });

    it('sends no credentials outside of a handler', async () => {
      await inHandler(httpRequest({ authorization: `Bearer ${issuer.userToken('alice')}` }), () =>
        Promise.resolve(),
      );

      await client.send('payments.charge', {});

      expect(proxy.sent[0].envelope.meta).toEqual({
        authorization: undefined,
        requestId: undefined,
      });
    });
  });

  describe("sendAsService: with this service's own token", () => {
    it("sends this service's client-credentials token instead of the caller's, with the caller's request id", async () => {
      const provider = new ServiceTokenProvider({
        issuer: issuer.issuer,
        clientId: 'order',
        clientSecret: ORDER_SECRET,
        scope: 'payments:charge',
        timeoutMs: 2_000,
      });
      const asService = new ServiceClient('payment', proxy, 100, {
        audience: AUDIENCE,
        serviceTokens: provider,
      });
      const userAuthorization = `Bearer ${issuer.userToken('alice')}`;

      await inHandler(
        httpRequest({ authorization: userAuthorization, [REQUEST_ID_HEADER]: 'req-3' }),
        () => asService.sendAsService('payments.settle', {}),
      );

      const { authorization, requestId } = proxy.sent[0].envelope.meta;
      expect(requestId).toBe('req-3');
      expect(authorization).not.toBe(userAuthorization);
      const verifier = new AccessTokenVerifier(
        {
          ...DEFAULT_AUTH_OPTIONS,
          issuer: issuer.issuer,
          audience: AUDIENCE,
          serviceName: 'payment',
          trustDomain: 'acme.internal',
        },
        new JwksCache({
          issuer: issuer.issuer,
          cooldownMs: 1_000,
          maxAgeMs: 60_000,
          timeoutMs: 2_000,
        }),
      );
      await expect(
        verifier.verify((authorization ?? '').replace(/^Bearer /, '')),
      ).resolves.toMatchObject({
        kind: 'service',
        clientId: 'order',
      });
    });

    it('is 503 when the issuer does not grant a token, and sends nothing', async () => {
      const refused = new ServiceTokenProvider({
        issuer: issuer.issuer,
        clientId: 'order',
        clientSecret: 'wrong',
        scope: '',
        timeoutMs: 2_000,
      });

      const error = await failure(
        new ServiceClient('payment', proxy, 100, {
          audience: AUDIENCE,
          serviceTokens: refused,
        }).sendAsService('payments.settle', {}),
      );

      expect(error.getStatus()).toBe(503);
      expect(proxy.sent).toEqual([]);
    });

    it('refuses when no service credentials are configured', async () => {
      await expect(client.sendAsService('payments.settle', {})).rejects.toThrow(
        'no service credentials configured to call payment',
      );
    });
  });

  describe('resilience', () => {
    const resilience = {
      retries: 2,
      retryDelayMs: 1,
      breaker: { failureThreshold: 3, resetAfterMs: 60_000 },
    };
    const down = () => throwError(() => new Error('Connection closed'));

    it('retries an idempotent call after a transport failure, and succeeds when the service answers', async () => {
      const proxy = new RecordingProxy();
      let calls = 0;
      proxy.reply = () => (++calls < 3 ? down() : of({ ok: true }));
      const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
      await expect(client.send('order.get', {}, { idempotent: true })).resolves.toEqual({
        ok: true,
      });
      expect(proxy.sent).toHaveLength(3);
    });

    it('never retries a call that is not idempotent', async () => {
      const proxy = new RecordingProxy();
      proxy.reply = down;
      const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
      expect((await failure(client.send('order.create', {}))).getStatus()).toBe(503);
      expect(proxy.sent).toHaveLength(1);
    });

    it('never retries a refusal: the service answered', async () => {
      const proxy = new RecordingProxy();
      const refusal: RpcErrorBody = { status: 403, error: 'insufficient_scope', message: 'no' };
      proxy.reply = () => throwError(() => refusal);
      const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
      expect((await failure(client.send('order.get', {}, { idempotent: true }))).getStatus()).toBe(
        403,
      );
      expect(proxy.sent).toHaveLength(1);
    });

    it.each<[string, RpcErrorBody]>([
      ['a validation refusal', { status: 400, error: 'Bad Request', message: 'limit too large' }],
      ['a 403', { status: 403, error: 'insufficient_scope', message: 'no' }],
      ['a 413', { status: 413, error: 'payload_too_large', message: 'too large' }],
      [
        'a reply too large to send',
        { status: 500, error: 'reply_too_large', message: 'too large' },
      ],
      ['an internal error', { status: 500, error: 'internal_error', message: 'oops' }],
    ])(
      'never opens the circuit for %s, however often: the service answered',
      async (_case, body) => {
        const proxy = new RecordingProxy();
        proxy.reply = () => throwError(() => body);
        const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
        for (let i = 0; i < 10; i++) {
          await failure(client.send('order.list', {}, { idempotent: true }));
        }

        proxy.reply = () => of({ ok: true });
        await expect(client.send('order.list', {})).resolves.toEqual({ ok: true });
        expect(proxy.sent).toHaveLength(11);
      },
    );

    const refused = () =>
      throwError(() =>
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4001'), { code: 'ECONNREFUSED' }),
      );

    it('answers 503 at once while a service that never answered refuses connections, and calls it as soon as it is up', async () => {
      const proxy = new RecordingProxy();
      proxy.reply = refused;
      const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
      for (let i = 0; i < 10; i++) {
        expect((await failure(client.send('order.create', {}))).getStatus()).toBe(503);
      }

      proxy.reply = () => of({ ok: true });
      await expect(client.send('order.create', {})).resolves.toEqual({ ok: true });
      expect(proxy.sent).toHaveLength(11);
    });

    it('opens the circuit on refused connections once the service has answered: it went down', async () => {
      const proxy = new RecordingProxy();
      const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
      await client.send('order.create', {});
      proxy.reply = refused;
      for (let i = 0; i < 3; i++) await failure(client.send('order.create', {}));

      expect((await failure(client.send('order.create', {}))).getStatus()).toBe(503);
      expect(proxy.sent).toHaveLength(4);
    });

    it('opens the circuit after consecutive failures and then fails fast without calling', async () => {
      const proxy = new RecordingProxy();
      proxy.reply = down;
      const client = new ServiceClient('order', proxy, 1_000, { audience: AUDIENCE }, resilience);
      for (let i = 0; i < 3; i++) await failure(client.send('order.create', {}));
      expect(proxy.sent).toHaveLength(3);
      const fast = await failure(client.send('order.create', {}));
      expect(fast.getStatus()).toBe(503);
      expect(proxy.sent).toHaveLength(3);
    });

    it('shows the state of its circuit in acme_circuit_breaker_state', async () => {
      const proxy = new RecordingProxy();
      const client = new ServiceClient(
        'inventory',
        proxy,
        1_000,
        { audience: AUDIENCE },
        resilience,
      );
      const state = () => metricValue('acme_circuit_breaker_state', { service: 'inventory' });
      expect(await state()).toBe(0);

      proxy.reply = down;
      for (let i = 0; i < 3; i++) await failure(client.send('inventory.reserve', {}));

      expect(await state()).toBe(2);
    });
  });
});
