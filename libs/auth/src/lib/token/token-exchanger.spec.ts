import { Logger } from '@nestjs/common';
import { TestIssuer } from '../testing/test-issuer';
import { TokenRequestError } from './token-endpoint';
import { TokenExchanger } from './token-exchanger';

const SECRET = 'order-secret:with/reserved&chars';

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

describe(TokenExchanger.name, () => {
  let issuer: TestIssuer;
  const exchanger = (cacheSize?: number, clientSecret = SECRET) =>
    new TokenExchanger(
      { issuer: issuer.issuer, clientId: 'order', clientSecret, timeoutMs: 2_000 },
      fetch,
      cacheSize,
    );

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'urn:acme:order', clients: { order: SECRET } });
  });
  afterAll(() => issuer.stop());
  afterEach(() => {
    clockOffsetMs = 0;
    jest.restoreAllMocks();
  });

  it("gets a token for the callee's audience with the same subject, naming this client as actor", async () => {
    const token = await exchanger().exchange(issuer.userToken('alice'), 'urn:acme:payment');

    expect(payloadOf(token)).toMatchObject({
      sub: 'alice',
      aud: 'urn:acme:payment',
      act: { sub: 'order' },
    });
  });

  describe('scope', () => {
    /** The forms the exchanger posted to the issuer. */
    const sentForms = (
      exchangeScope = true,
    ): { forms: URLSearchParams[]; exchanger: TokenExchanger } => {
      const forms: URLSearchParams[] = [];
      const recording: typeof fetch = (input, init) => {
        if (typeof init?.body === 'string') forms.push(new URLSearchParams(init.body));
        return fetch(input, init);
      };
      return {
        forms,
        exchanger: new TokenExchanger(
          {
            issuer: issuer.issuer,
            clientId: 'order',
            clientSecret: SECRET,
            timeoutMs: 2_000,
            exchangeScope,
          },
          recording,
        ),
      };
    };

    it("asks for exactly the subject token's scopes (Okta requires scope), never more", async () => {
      const { forms, exchanger: tokens } = sentForms();

      await tokens.exchange(
        issuer.userToken('alice', { scope: 'orders:read orders:write' }),
        'urn:acme:payment',
      );

      expect(forms.map((form) => form.get('scope'))).toEqual(['orders:read orders:write']);
    });

    it("reads Okta's scp array", async () => {
      const { forms, exchanger: tokens } = sentForms();

      await tokens.exchange(
        issuer.sign({ claims: { scope: undefined, scp: ['orders:read'] } }),
        'urn:acme:payment',
      );

      expect(forms[0]?.get('scope')).toBe('orders:read');
    });

    it('sends none where the provider gets none (Keycloak, Auth0)', async () => {
      const { forms, exchanger: tokens } = sentForms(false);

      await tokens.exchange(
        issuer.userToken('alice', { scope: 'orders:read' }),
        'urn:acme:payment',
      );

      expect(forms[0]?.has('scope')).toBe(false);
    });

    it('sends no scope for a token without any', async () => {
      const { forms, exchanger: tokens } = sentForms();

      await tokens.exchange(issuer.userToken('alice', { scope: '' }), 'urn:acme:payment');

      expect(forms[0]?.has('scope')).toBe(false);
    });
  });

  it('remembers an exchanged token until shortly before it expires', async () => {
    const tokens = exchanger();
    const user = issuer.userToken('alice');
    const first = await tokens.exchange(user, 'urn:acme:payment');

    advanceClock(45_000); // the test issuer grants 60 s; renewal comes 10 s before the end
    // At once, without a promise: the common path of every hop.
    expect(tokens.exchange(user, 'urn:acme:payment')).toBe(first);

    advanceClock(6_000);
    expect(await tokens.exchange(user, 'urn:acme:payment')).not.toBe(first);
  });

  it('keeps tokens apart by user token and by audience', async () => {
    const tokens = exchanger();
    const [alice, bob] = [issuer.userToken('alice'), issuer.userToken('bob')];
    const before = issuer.exchanges;

    const results = await Promise.all([
      tokens.exchange(alice, 'urn:acme:payment'),
      tokens.exchange(alice, 'urn:acme:payment'),
      tokens.exchange(alice, 'urn:acme:inventory'),
      tokens.exchange(bob, 'urn:acme:payment'),
    ]);

    expect(issuer.exchanges - before).toBe(3);
    expect(results[0]).toBe(results[1]);
    expect(payloadOf(results[2]).aud).toBe('urn:acme:inventory');
    expect(payloadOf(results[3]).sub).toBe('bob');
  });

  it('forgets the oldest token beyond its cache size', async () => {
    const tokens = exchanger(1);
    const [alice, bob] = [issuer.userToken('alice'), issuer.userToken('bob')];
    await tokens.exchange(alice, 'urn:acme:payment');
    await tokens.exchange(bob, 'urn:acme:payment');
    const before = issuer.exchanges;

    await tokens.exchange(alice, 'urn:acme:payment');

    expect(issuer.exchanges - before).toBe(1);
  });

  it('throws the refusal with its OAuth error, and remembers nothing', async () => {
    const tokens = exchanger();
    const expired = issuer.userToken('alice', { expiresIn: -10 });
    const before = issuer.exchanges;

    const refuse = () => Promise.resolve(tokens.exchange(expired, 'urn:acme:payment'));
    const refusal = await refuse().catch((e: unknown) => e);
    await refuse().catch(() => undefined);

    expect(refusal).toBeInstanceOf(TokenRequestError);
    expect(refusal).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(issuer.exchanges - before).toBe(2);
  });

  it('logs a refusal of this service (not of the token) and throws it', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

    await expect(
      Promise.resolve(
        exchanger(undefined, 'wrong').exchange(issuer.userToken('alice'), 'urn:acme:payment'),
      ),
    ).rejects.toMatchObject({ status: 401, error: 'invalid_client' });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('token exchange of order'));
  });
});
