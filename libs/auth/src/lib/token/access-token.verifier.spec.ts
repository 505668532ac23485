import { createHmac, randomUUID } from 'node:crypto';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { TestIssuer } from '../testing/test-issuer';
import { AccessTokenVerifier } from './access-token.verifier';
import { InvalidTokenError } from './invalid-token.error';
import { JwksCache } from './jwks.cache';

const AUDIENCE = 'urn:acme:orders';

const realNow = Date.now.bind(Date);
let clockOffsetMs = 0;

/** Moves `Date.now()` forward for the code under test; sockets and timers keep real time. */
function advanceClock(ms: number): void {
  clockOffsetMs += ms;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clockOffsetMs);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe(AccessTokenVerifier.name, () => {
  let issuer: TestIssuer;
  /** Signs with keys of its own: a real signature, but not by our issuer. */
  let attacker: TestIssuer;
  let verifier: AccessTokenVerifier;

  /** A verifier with its own JWKS cache, configured as a service configures it. */
  function createVerifier(overrides: Partial<AuthOptions> = {}): {
    verifier: AccessTokenVerifier;
    jwks: JwksCache;
  } {
    const options: AuthOptions = {
      ...DEFAULT_AUTH_OPTIONS,
      issuer: issuer.issuer,
      audience: AUDIENCE,
      serviceName: 'order',
      trustDomain: 'acme.internal',
      ...overrides,
    };
    const jwks = new JwksCache({
      issuer: options.issuer,
      cooldownMs: options.jwksCooldownMs,
      maxAgeMs: options.jwksMaxAgeMs,
      timeoutMs: options.issuerTimeoutMs,
    });
    return { verifier: new AccessTokenVerifier(options, jwks), jwks };
  }

  /** Verifies a token that must be refused, and returns the reason given. */
  async function refusal(token: string, by: AccessTokenVerifier = verifier): Promise<string> {
    const error = await Promise.resolve(by.verify(token)).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).message;
  }

  beforeAll(async () => {
    [issuer, attacker] = await Promise.all([
      TestIssuer.start({ audience: AUDIENCE }),
      TestIssuer.start({ audience: AUDIENCE }),
    ]);
    ({ verifier } = createVerifier());
  });

  afterAll(async () => {
    await Promise.all([issuer.stop(), attacker.stop()]);
  });

  afterEach(() => {
    clockOffsetMs = 0;
    jest.restoreAllMocks();
  });

  describe('accepts', () => {
    it('an ES256 access token of the issuer', async () => {
      await expect(verifier.verify(issuer.userToken('alice'))).resolves.toMatchObject({
        subject: 'alice',
      });
    });

    it('an RS256 access token of the issuer', async () => {
      const token = issuer.sign({ claims: { sub: 'alice' }, rsa: true });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('a token expired by less than the clock leeway', async () => {
      const token = issuer.userToken('alice', {
        expiresIn: -(DEFAULT_AUTH_OPTIONS.clockToleranceSec - 10),
      });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('typ "application/at+jwt", the media type form of at+jwt', async () => {
      const token = issuer.sign({ header: { typ: 'application/at+jwt' } });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    });

    it('typ "JWT" when acceptJwtTyp is set (Keycloak)', async () => {
      const { verifier: lenient } = createVerifier({ acceptJwtTyp: true });

      await expect(lenient.verify(issuer.sign({ header: { typ: 'JWT' } }))).resolves.toMatchObject({
        subject: 'user-1',
      });
    });
  });

  describe('refuses (RFC 8725 attacks)', () => {
    it('an unsigned token with alg "none"', async () => {
      const payload = payloadOf(issuer.userToken('alice', { roles: ['admin'] }));
      const unsigned = `${base64url({ alg: 'none', typ: 'at+jwt', kid: issuer.kid() })}.${base64url(payload)}.`;

      expect(await refusal(unsigned)).toBe('algorithm none is not accepted');
    });

    it('an HS256 token whose HMAC secret is the issuer public key PEM (key confusion)', async () => {
      const signingInput = `${base64url({ alg: 'HS256', typ: 'at+jwt', kid: issuer.kid() })}.${base64url(
        payloadOf(issuer.userToken('alice', { roles: ['admin'] })),
      )}`;
      const signature = createHmac('sha256', issuer.publicKeyPem())
        .update(signingInput)
        .digest('base64url');

      expect(await refusal(`${signingInput}.${signature}`)).toBe('algorithm HS256 is not accepted');
    });

    it('an RS256 token that names the kid of the ES256 key', async () => {
      const token = issuer.sign({ rsa: true, header: { kid: issuer.kid() } });

      expect(await refusal(token)).toBe('algorithm does not match the signing key');
    });

    it('a token of another issuer', async () => {
      expect(await refusal(issuer.sign({ claims: { iss: 'https://login.evil.example' } }))).toBe(
        'wrong issuer',
      );
    });

    it('a token for another audience', async () => {
      expect(await refusal(issuer.sign({ claims: { aud: 'urn:acme:payments' } }))).toBe(
        'wrong audience',
      );
    });

    it('a token expired by more than the clock leeway', async () => {
      const token = issuer.userToken('alice', {
        expiresIn: -(DEFAULT_AUTH_OPTIONS.clockToleranceSec + 30),
      });

      expect(await refusal(token)).toBe('token expired');
    });

    it('a token whose nbf is in the future', async () => {
      const nbf = Math.floor(Date.now() / 1000) + DEFAULT_AUTH_OPTIONS.clockToleranceSec + 60;

      expect(await refusal(issuer.sign({ claims: { nbf } }))).toBe('token not yet valid');
    });

    it('typ "JWT" by default: an ID token or other JWT is not an access token (RFC 9068)', async () => {
      expect(await refusal(issuer.sign({ header: { typ: 'JWT' } }))).toBe(
        'token type "JWT" is not an access token',
      );
    });

    it('a token without typ, even when acceptJwtTyp is set', async () => {
      const { verifier: lenient } = createVerifier({ acceptJwtTyp: true });

      expect(await refusal(issuer.sign({ header: { typ: undefined } }), lenient)).toBe(
        'token type "" is not an access token',
      );
    });

    it('a token without kid', async () => {
      expect(await refusal(issuer.sign({ header: { kid: undefined } }))).toBe(
        'token has no key id',
      );
    });

    it('a token with a critical header extension it does not understand', async () => {
      expect(await refusal(issuer.sign({ header: { crit: ['exp'] } }))).toBe(
        'unsupported critical header',
      );
    });

    it.each([
      ['jku', (evil: TestIssuer) => `${evil.issuer}/jwks`],
      ['x5u', (evil: TestIssuer) => `${evil.issuer}/cert.pem`],
      ['jwk', (evil: TestIssuer) => evil.jwks().keys[0]],
      ['x5c', (evil: TestIssuer) => [Buffer.from(evil.publicKeyPem()).toString('base64')]],
    ])(
      'a token whose "%s" header points the verifier at the signer\'s own key',
      async (name, value) => {
        const forged = attacker.sign({
          claims: { iss: issuer.issuer, roles: ['admin'] },
          header: { kid: attacker.kid(), [name]: value(attacker) },
        });
        const requestsBefore = attacker.jwksRequests;

        expect(await refusal(forged)).toBe(`token header must not carry "${name}"`);
        expect(attacker.jwksRequests).toBe(requestsBefore);
      },
    );

    it("a valid signature by a key that is not the issuer's, under the issuer's kid", async () => {
      const forged = attacker.sign({
        claims: { iss: issuer.issuer, roles: ['admin'] },
        header: { kid: issuer.kid() },
      });

      expect(await refusal(forged)).toBe('invalid signature');
    });

    it("a valid signature by a key that is not the issuer's, under its own kid", async () => {
      const forged = attacker.sign({ claims: { iss: issuer.issuer, roles: ['admin'] } });

      expect(await refusal(forged)).toBe('unknown signing key');
    });

    it('a token whose payload was changed after signing', async () => {
      const [header, , signature] = issuer.userToken('alice', { roles: ['user'] }).split('.');
      const payload = { ...payloadOf(issuer.userToken('alice')), roles: ['admin'] };

      expect(await refusal(`${header}.${base64url(payload)}.${signature}`)).toBe(
        'invalid signature',
      );
    });

    it.each(['', 'not-a-jwt', 'a.b.c', `${base64url({ typ: 'at+jwt' })}.e30.`])(
      'a malformed token %j',
      async (token) => {
        expect(await refusal(token)).toBe('malformed token');
      },
    );

    it.each([
      ['iss', 'wrong issuer'],
      ['sub', 'missing claim sub'],
      ['aud', 'wrong audience'],
      ['exp', 'missing claim exp'],
      ['iat', 'missing claim iat'],
      ['jti', 'missing claim jti'],
      ['client_id', 'missing claim client_id'],
    ])('a token without the required claim %s', async (claim, reason) => {
      const token = issuer.sign({ claims: { [claim]: undefined } });
      expect(payloadOf(token)).not.toHaveProperty(claim);

      expect(await refusal(token)).toBe(reason);
    });

    it('a token whose sub is not a string', async () => {
      expect(await refusal(issuer.sign({ claims: { sub: 42 } }))).toBe('malformed claim sub');
    });

    it.each([
      ['not an object', 'order'],
      ['without sub', { client_id: 'order' }],
      ['with a malformed nested actor', { sub: 'payment', act: { sub: 7 } }],
      [
        'nested deeper than any chain of services',
        Array.from({ length: 9 }).reduce<unknown>((act) => ({ sub: 'order', act }), undefined),
      ],
    ])('a token whose act claim is %s', async (_case, act) => {
      expect(await refusal(issuer.sign({ claims: { act } }))).toBe('malformed claim act');
    });
  });

  describe('maps the claims to a principal', () => {
    it('of a user, with roles from "roles" and scopes from the "scope" string', async () => {
      const token = issuer.userToken('alice', {
        roles: ['user', 'admin'],
        scope: 'orders:read orders:write',
      });
      const { jti, exp } = payloadOf(token);

      await expect(verifier.verify(token)).resolves.toEqual({
        kind: 'user',
        subject: 'alice',
        clientId: 'web',
        actors: [],
        roles: ['user', 'admin'],
        scopes: ['orders:read', 'orders:write'],
        tokenId: jti,
        expiresAt: exp,
        claims: expect.objectContaining({ sub: 'alice', client_id: 'web' }),
      });
    });

    it('of a service when sub equals client_id, with no roles even if the token lists some', async () => {
      const token = issuer.sign({
        claims: { sub: 'order', client_id: 'order', roles: ['admin'], scope: 'payments:charge' },
      });

      await expect(verifier.verify(token)).resolves.toMatchObject({
        kind: 'service',
        subject: 'order',
        clientId: 'order',
        roles: [],
        scopes: ['payments:charge'],
      });
    });

    it('of a user, not a service, when only a Keycloak-like username says so (generic provider)', async () => {
      const token = issuer.sign({
        claims: {
          sub: randomUUID(),
          client_id: 'order',
          preferred_username: 'service-account-order',
        },
      });

      await expect(verifier.verify(token)).resolves.toMatchObject({ kind: 'user' });
    });

    it('of the configured service, whose client id is not its name (AUTH_SERVICE_CLIENTS)', async () => {
      const { verifier: configured } = createVerifier({
        serviceClients: { payment: '0oa1payment', order: '0oa1order' },
      });
      const ofClient = (clientId: string) =>
        configured.verify(issuer.sign({ claims: { sub: clientId, client_id: clientId } }));

      await expect(ofClient('0oa1payment')).resolves.toMatchObject({ service: 'payment' });
      await expect(ofClient('inventory')).resolves.toMatchObject({ service: 'inventory' });
      // Once payment has another client id, a client named "payment" is not payment.
      expect((await ofClient('payment')).service).toBeUndefined();
    });

    it('with the actors of a token exchanged on the way (act, RFC 8693), current actor first', async () => {
      const { verifier: configured } = createVerifier({
        serviceClients: { gateway: 'acme-gateway' },
      });
      const token = issuer.sign({
        claims: { sub: 'alice', act: { sub: 'order', act: { sub: 'acme-gateway' } } },
      });

      await expect(configured.verify(token)).resolves.toMatchObject({
        kind: 'user',
        subject: 'alice',
        actors: ['order', 'gateway'],
      });
    });

    it('with an actor that is no service under a name no service can have', async () => {
      const { verifier: configured } = createVerifier({ serviceClients: { order: 'acme-order' } });
      // Once order has another client id, a client named "order" acting is not order.
      const token = issuer.sign({ claims: { act: { sub: 'order' } } });

      await expect(configured.verify(token)).resolves.toMatchObject({ actors: ['client:order'] });
    });

    it('of a token whose aud names several services, for each of them (forwarding)', async () => {
      const token = issuer.sign({ claims: { aud: ['urn:acme:other', AUDIENCE] } });

      await expect(verifier.verify(token)).resolves.toMatchObject({ kind: 'user' });
    });

    it('with roles read from the rolesClaim path, e.g. realm_access.roles', async () => {
      const { verifier: keycloak } = createVerifier({ rolesClaims: ['realm_access.roles'] });
      const token = issuer.sign({
        claims: { roles: ['user'], realm_access: { roles: ['admin', 42] } },
      });

      await expect(keycloak.verify(token)).resolves.toMatchObject({ roles: ['admin'] });
    });

    it('with scopes read from an "scp" array when there is no "scope" string', async () => {
      const token = issuer.sign({
        claims: { scope: undefined, scp: ['orders:read', 'orders:write'] },
      });

      await expect(verifier.verify(token)).resolves.toMatchObject({
        scopes: ['orders:read', 'orders:write'],
      });
    });
  });

  describe('keys', () => {
    it('refetches the JWKS for an unknown kid at most once per cooldown', async () => {
      const { verifier: fresh } = createVerifier({ jwksCooldownMs: 5_000 });
      const unknownKid = () => issuer.sign({ header: { kid: randomUUID() } });
      const before = issuer.jwksRequests;
      await fresh.verify(issuer.userToken('alice'));
      expect(issuer.jwksRequests).toBe(before + 1);

      for (let attempt = 0; attempt < 5; attempt++) {
        expect(await refusal(unknownKid(), fresh)).toBe('unknown signing key');
      }
      expect(issuer.jwksRequests).toBe(before + 1);

      advanceClock(5_000);
      expect(await refusal(unknownKid(), fresh)).toBe('unknown signing key');
      expect(await refusal(unknownKid(), fresh)).toBe('unknown signing key');
      expect(issuer.jwksRequests).toBe(before + 2);
    });

    it('verifies tokens of a rotated key after the refetch, and no longer those of the retired key', async () => {
      const rotating = await TestIssuer.start({ audience: AUDIENCE });
      try {
        const { verifier: fresh } = createVerifier({
          issuer: rotating.issuer,
          jwksCooldownMs: 1_000,
        });
        await fresh.verify(rotating.userToken('alice'));
        const signedWithRetiredKey = rotating.userToken('alice');

        rotating.rotateKeys();
        advanceClock(1_000);

        await expect(fresh.verify(rotating.userToken('bob'))).resolves.toMatchObject({
          subject: 'bob',
        });
        expect(rotating.jwksRequests).toBe(2);
        expect(await refusal(signedWithRetiredKey, fresh)).toBe('unknown signing key');
      } finally {
        await rotating.stop();
      }
    });
  });

  describe('verified-token cache', () => {
    it('returns the same principal for a repeated token without looking up its key again', async () => {
      const { verifier: fresh, jwks } = createVerifier();
      const getKey = jest.spyOn(jwks, 'getKey');
      const token = issuer.userToken('alice');

      const first = await fresh.verify(token);
      const second = await fresh.verify(token);

      expect(second).toBe(first);
      expect(getKey).toHaveBeenCalledTimes(1);
    });

    it('never remembers a refused token', async () => {
      const { verifier: fresh, jwks } = createVerifier();
      const getKey = jest.spyOn(jwks, 'getKey');
      const token = issuer.sign({ claims: { aud: 'urn:acme:payments' } });

      expect(await refusal(token, fresh)).toBe('wrong audience');
      expect(await refusal(token, fresh)).toBe('wrong audience');
      expect(getKey).toHaveBeenCalledTimes(2);
    });

    it('does not serve a remembered principal once its token has expired', async () => {
      const { verifier: fresh } = createVerifier();
      const token = issuer.userToken('alice', { expiresIn: 60 });
      await fresh.verify(token);

      advanceClock((60 + DEFAULT_AUTH_OPTIONS.clockToleranceSec + 1) * 1000);

      expect(await refusal(token, fresh)).toBe('token expired');
    });

    it('remembers at most tokenCacheSize tokens, forgetting the oldest', async () => {
      const { verifier: fresh, jwks } = createVerifier({ tokenCacheSize: 1 });
      const getKey = jest.spyOn(jwks, 'getKey');
      const [alice, bob] = [issuer.userToken('alice'), issuer.userToken('bob')];

      await fresh.verify(alice);
      await fresh.verify(bob);
      await fresh.verify(bob);
      await fresh.verify(alice);

      expect(getKey).toHaveBeenCalledTimes(3);
    });

    it('is off with tokenCacheSize 0', async () => {
      const { verifier: uncached } = createVerifier({ tokenCacheSize: 0 });
      const token = issuer.userToken('alice');

      expect(await uncached.verify(token)).not.toBe(await uncached.verify(token));
    });

    it('drops a remembered token once the issuer stops publishing its key', async () => {
      const rotating = await TestIssuer.start({ audience: AUDIENCE });
      try {
        const { verifier: fresh, jwks } = createVerifier({
          issuer: rotating.issuer,
          jwksCooldownMs: 1_000,
        });
        const token = rotating.userToken('alice');
        await fresh.verify(token);

        rotating.rotateKeys();
        advanceClock(1_000);
        await fresh.verify(rotating.userToken('bob')); // a new kid: the JWKS is refetched
        expect(jwks.has(rotating.kid())).toBe(true);

        expect(await refusal(token, fresh)).toBe('unknown signing key');
      } finally {
        await rotating.stop();
      }
    });
  });

  describe('token lifetime', () => {
    it('refuses a token that lives longer than maxTokenLifetimeSec, cache or not', async () => {
      const { verifier: capped } = createVerifier({ maxTokenLifetimeSec: 3_600 });

      await expect(
        capped.verify(issuer.userToken('alice', { expiresIn: 3_600 })),
      ).resolves.toBeDefined();
      expect(await refusal(issuer.userToken('alice', { expiresIn: 3_601 }), capped)).toBe(
        'token lifetime exceeds the accepted maximum',
      );
    });

    it('refuses a year-long token by default', async () => {
      expect(await refusal(issuer.userToken('alice', { expiresIn: 365 * 86_400 }))).toBe(
        'token lifetime exceeds the accepted maximum',
      );
    });

    it('measures from now when the token has no iat', async () => {
      const { verifier: capped } = createVerifier({
        maxTokenLifetimeSec: 3_600,
        requiredClaims: [],
      });
      const noIat = (expiresIn: number) => issuer.sign({ claims: { iat: undefined }, expiresIn });

      await expect(capped.verify(noIat(3_600))).resolves.toBeDefined();
      expect(await refusal(noIat(2 * 3_600), capped)).toBe(
        'token lifetime exceeds the accepted maximum',
      );
    });

    it('measures from now when iat is in the future, so a later iat cannot stretch the window', async () => {
      const { verifier: capped } = createVerifier({ maxTokenLifetimeSec: 3_600 });
      const now = Math.floor(Date.now() / 1000);
      const postdated = issuer.sign({ claims: { iat: now + 86_400, exp: now + 86_400 + 300 } });

      expect(await refusal(postdated, capped)).toBe('token lifetime exceeds the accepted maximum');
    });

    it('forgets a token without iat no later than maxTokenLifetimeSec after it was verified', async () => {
      const { verifier: capped, jwks } = createVerifier({
        maxTokenLifetimeSec: 3_600,
        requiredClaims: [],
        clockToleranceSec: 60,
      });
      const getKey = jest.spyOn(jwks, 'getKey');
      // Within tolerance of the cap: accepted, but remembered only up to now + the cap.
      const token = issuer.sign({ claims: { iat: undefined }, expiresIn: 3_600 + 50 });
      await capped.verify(token);
      advanceClock(3_600 * 1000 + 1);

      await capped.verify(token);
      expect(getKey).toHaveBeenCalledTimes(2);
    });
  });
});
