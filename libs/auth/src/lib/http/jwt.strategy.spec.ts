import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import type { Principal } from '../principal';
import { testVerifier } from '../testing/guard-contexts';
import { TestIssuer } from '../testing/test-issuer';
import { HttpSenderConstraint } from './http-sender-constraint';
import { authenticateWithPassport, JwtStrategy } from './jwt.strategy';

const AUDIENCE = 'urn:acme:api';

interface Outcome {
  principal?: Principal;
  refusal?: unknown;
  /** Settles when passport hears the outcome. */
  done: Promise<void>;
}

describe(JwtStrategy.name, () => {
  let issuer: TestIssuer;
  let strategy: JwtStrategy;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    const constraint = new HttpSenderConstraint({
      ...DEFAULT_AUTH_OPTIONS,
      issuer: issuer.issuer,
      audience: AUDIENCE,
      serviceName: 'gateway',
      trustDomain: 'acme.internal',
    });
    strategy = new JwtStrategy(testVerifier(issuer, AUDIENCE), constraint);
  });

  afterAll(() => issuer.stop());

  /** Authenticates a request as passport does (an attempt per request); the outcome fills in when it comes. */
  function authenticate(authorization: string): Outcome {
    let heard!: () => void;
    const outcome: Outcome = { done: new Promise<void>((resolve) => (heard = resolve)) };
    const attempt = Object.create(strategy) as JwtStrategy;
    attempt.success = (principal: Principal) => {
      outcome.principal = principal;
      heard();
    };
    attempt.fail = (refusal: unknown) => {
      outcome.refusal = refusal;
      heard();
    };
    attempt.authenticate({ headers: { authorization }, method: 'GET', url: '/' } as never);
    return outcome;
  }

  it('hands passport the principal of a token it verified before at once, without a promise', async () => {
    const authorization = `Bearer ${issuer.userToken('alice')}`;
    const first = authenticate(authorization);
    expect(first.principal).toBeUndefined(); // the first time, its signature is checked
    await first.done;
    expect(first.principal).toMatchObject({ kind: 'user', subject: 'alice' });

    const again = authenticate(authorization);

    expect(again.principal).toBe(first.principal);
  });

  it('refuses at once a token it verified before that the request cannot use here', async () => {
    // A DPoP-bound token, where this service takes no DPoP proof.
    const bound = issuer.sign({ claims: { sub: 'alice', cnf: { jkt: 'thumbprint' } } });
    await authenticate(`Bearer ${bound}`).done;

    const again = authenticate(`Bearer ${bound}`);

    expect(again.principal).toBeUndefined();
    expect(again.refusal).toMatchObject({ message: 'unsupported confirmation method cnf jkt' });
  });

  it('refuses a token it cannot verify, once checked', async () => {
    const expired = authenticate(`Bearer ${issuer.userToken('alice', { expiresIn: -3_600 })}`);
    await expired.done;

    expect(expired.principal).toBeUndefined();
    expect(expired.refusal).toMatchObject({ message: 'token expired' });
  });

  describe(authenticateWithPassport.name, () => {
    const refused = (reason: unknown) => new Error(`refused: ${(reason as Error).message}`);
    /** Through passport, as JwtAuthGuard authenticates an HTTP request. */
    const viaPassport = (authorization?: string) =>
      authenticateWithPassport(
        { headers: { authorization }, method: 'GET', url: '/' } as never,
        {} as never,
        refused,
      );

    it('answers with the principal of a token verified before at once, and a promise the first time', async () => {
      const authorization = `Bearer ${issuer.userToken('bob')}`;
      const first = viaPassport(authorization);
      expect(first).toBeInstanceOf(Promise);
      const principal = await first;
      expect(principal).toMatchObject({ kind: 'user', subject: 'bob' });

      expect(viaPassport(authorization)).toBe(principal);
    });

    it("throws passport's refusal at once, as the guard maps it, when the strategy refuses at once", () => {
      expect(() => viaPassport()).toThrow(/^refused: /);
      expect(() => viaPassport('Basic dXNlcjpwYXNz')).toThrow(/^refused: /);
    });

    it('rejects with the refusal of a token it cannot verify, once checked', async () => {
      const expired = viaPassport(`Bearer ${issuer.userToken('bob', { expiresIn: -3_600 })}`);
      await expect(expired).rejects.toThrow('refused: token expired');
    });
  });
});
