import { Logger } from '@nestjs/common';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { TestIssuer } from '../testing/test-issuer';
import { AccessTokenVerifier } from './access-token.verifier';
import { JwksCache } from './jwks.cache';
import { ServiceTokenProvider } from './service-token.provider';
import type { ServiceCredentials } from './service-token.provider';

const AUDIENCE = 'urn:acme:payments';
const ORDER_SECRET = 'order-secret:with/reserved&chars';

const realNow = Date.now.bind(Date);
let clockOffsetMs = 0;

/** Moves `Date.now()` forward for the code under test; sockets and timers keep real time. */
function advanceClock(ms: number): void {
  clockOffsetMs += ms;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clockOffsetMs);
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

describe(ServiceTokenProvider.name, () => {
  let issuer: TestIssuer;
  let credentials: ServiceCredentials;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: { order: ORDER_SECRET } });
    credentials = {
      issuer: issuer.issuer,
      clientId: 'order',
      clientSecret: ORDER_SECRET,
      scope: 'payments:charge',
      timeoutMs: 2_000,
    };
  });

  afterAll(() => issuer.stop());

  afterEach(() => {
    clockOffsetMs = 0;
    jest.restoreAllMocks();
  });

  it('obtains a client-credentials token that verifies as this service', async () => {
    const token = await new ServiceTokenProvider(credentials).getToken(AUDIENCE);

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
    await expect(verifier.verify(token)).resolves.toMatchObject({
      kind: 'service',
      clientId: 'order',
      scopes: ['payments:charge'],
    });
  });

  // Every token the issuer mints has a fresh jti, so equal strings mean one request.
  it('caches the token until shortly before it expires', async () => {
    const provider = new ServiceTokenProvider(credentials);

    const first = await provider.getToken(AUDIENCE);
    advanceClock(200_000); // the issuer grants 300 s; renewal comes 30 s before the end
    expect(await provider.getToken(AUDIENCE)).toBe(first);

    advanceClock(71_000);
    expect(await provider.getToken(AUDIENCE)).not.toBe(first);
  });

  it('makes one request for concurrent callers', async () => {
    const provider = new ServiceTokenProvider(credentials);

    const tokens = await Promise.all(Array.from({ length: 5 }, () => provider.getToken(AUDIENCE)));

    expect(new Set(tokens).size).toBe(1);
  });

  it('throws when the issuer refuses the credentials, and asks again on the next call', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const fetchFn = jest.fn(fetch);
    const provider = new ServiceTokenProvider({ ...credentials, clientSecret: 'wrong' }, fetchFn);
    const tokenRequests = () =>
      fetchFn.mock.calls.filter(([url]) => url === `${issuer.issuer}/token`).length;

    await expect(provider.getToken(AUDIENCE)).rejects.toThrow('token endpoint answered 401');
    await expect(provider.getToken(AUDIENCE)).rejects.toThrow('token endpoint answered 401');
    expect(tokenRequests()).toBe(2);
  });

  it('throws when the issuer is unreachable', async () => {
    const provider = new ServiceTokenProvider({
      ...credentials,
      issuer: 'http://127.0.0.1:9',
      timeoutMs: 500,
    });

    await expect(provider.getToken(AUDIENCE)).rejects.toThrow('fetch failed');
  });

  it("asks for a token per callee, naming the callee's audience as targetParameter says", async () => {
    const provider = new ServiceTokenProvider({ ...credentials, targetParameter: 'resource' });

    const [forPayment, forInventory] = await Promise.all([
      provider.getToken(AUDIENCE),
      provider.getToken('urn:acme:inventory'),
    ]);

    expect(payloadOf(forPayment).aud).toBe(AUDIENCE);
    expect(payloadOf(forInventory).aud).toBe('urn:acme:inventory');
    expect(await provider.getToken(AUDIENCE)).toBe(forPayment);
  });
});
