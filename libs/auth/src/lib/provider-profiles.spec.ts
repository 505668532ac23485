import { DEFAULT_AUTH_OPTIONS } from './auth.options';
import type { AuthOptions } from './auth.options';
import { PROVIDER_PROFILES } from './provider-profiles';
import { ProviderIssuer } from './testing/provider-issuer';
import type { ExternalProvider } from './testing/provider-issuer';
import { AccessTokenVerifier } from './token/access-token.verifier';
import { InvalidTokenError } from './token/invalid-token.error';
import { JwksCache } from './token/jwks.cache';

const AUDIENCE = 'https://api.acme.example';
/** Client ids as each provider generates them. */
const PAYMENT_CLIENT: Record<ExternalProvider, string> = {
  keycloak: 'acme-payment',
  auth0: 'kT3vQ9pZpaymentXw1rB7',
  okta: '0oa8payment4x9Qb2d7',
};
const ALICE = { username: 'alice', roles: ['user'], scope: 'orders:read orders:write' };

function verifierFor(
  issuer: ProviderIssuer,
  overrides: Partial<AuthOptions> = {},
): AccessTokenVerifier {
  const options: AuthOptions = {
    ...DEFAULT_AUTH_OPTIONS,
    ...PROVIDER_PROFILES[issuer.provider],
    provider: issuer.provider,
    issuer: issuer.issuer,
    audience: AUDIENCE,
    serviceName: 'order',
    trustDomain: 'acme.internal',
    serviceClients: { payment: PAYMENT_CLIENT[issuer.provider] },
    ...(issuer.provider === 'auth0' ? { rolesClaims: ['https://acme.example/roles'] } : {}),
    ...overrides,
  };
  return new AccessTokenVerifier(
    options,
    new JwksCache({
      issuer: options.issuer,
      cooldownMs: 1_000,
      maxAgeMs: 60_000,
      timeoutMs: 2_000,
    }),
  );
}

async function refusal(verifier: AccessTokenVerifier, token: string): Promise<string> {
  const error = await Promise.resolve(verifier.verify(token)).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).message;
}

describe.each<ExternalProvider>(['keycloak', 'auth0', 'okta'])('AUTH_PROVIDER=%s', (provider) => {
  let issuer: ProviderIssuer;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    issuer = await ProviderIssuer.start(provider, { audience: AUDIENCE });
    verifier = verifierFor(issuer);
  });

  afterAll(() => issuer.stop());

  it("is needed: the generic profile refuses the provider's default user token", async () => {
    const generic = verifierFor(issuer, { ...PROVIDER_PROFILES.generic, provider: 'generic' });

    expect(await refusal(generic, issuer.userToken(ALICE))).toMatch(/^(token type|missing claim)/);
  });

  it('accepts its user token: the client, the roles and the scopes where it puts them', async () => {
    const principal = await verifier.verify(issuer.userToken(ALICE));

    expect(principal).toMatchObject({ kind: 'user', clientId: 'web' });
    expect(principal.service).toBeUndefined();
    expect(principal.roles).toContain('user');
    expect(principal.scopes).toEqual(expect.arrayContaining(['orders:read', 'orders:write']));
  });

  it('recognises a client-credentials token of the configured client as that service', async () => {
    const principal = await verifier.verify(
      issuer.serviceToken(PAYMENT_CLIENT[provider], 'orders:settle'),
    );

    expect(principal).toMatchObject({
      kind: 'service',
      service: 'payment',
      clientId: PAYMENT_CLIENT[provider],
      roles: [],
    });
    expect(principal.scopes).toContain('orders:settle');
  });

  it('treats a client-credentials token of another client as no known service', async () => {
    const principal = await verifier.verify(issuer.serviceToken('payment', 'orders:settle'));

    expect(principal.kind).toBe('service');
    expect(principal.service).toBeUndefined();
  });

  it('refuses a wrong audience, a wrong issuer, and an expired token', async () => {
    expect(await refusal(verifier, issuer.userToken(ALICE, { aud: 'https://other.example' }))).toBe(
      'wrong audience',
    );
    expect(
      await refusal(verifier, issuer.userToken(ALICE, { iss: 'https://login.evil.example/' })),
    ).toBe('wrong issuer');
    const past = Math.floor(Date.now() / 1000) - 3_600;
    expect(await refusal(verifier, issuer.userToken(ALICE, { iat: past - 300, exp: past }))).toBe(
      'token expired',
    );
  });

  it('keeps the strict header checks: no unsigned token, no key-carrying header', async () => {
    const [, payload] = issuer.userToken(ALICE).split('.');
    const header = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

    expect(await refusal(verifier, `${header({ alg: 'none' })}.${payload}.`)).toBe(
      'algorithm none is not accepted',
    );
    expect(
      await refusal(
        verifier,
        `${header({ alg: 'RS256', kid: 'x', jku: 'https://evil.example/jwks' })}.${payload}.c2ln`,
      ),
    ).toBe('token header must not carry "jku"');
  });

  it('refuses a token whose lifetime exceeds the maximum', async () => {
    const now = Math.floor(Date.now() / 1000);
    const capped = verifierFor(issuer, { maxTokenLifetimeSec: 600 });

    expect(await refusal(capped, issuer.userToken(ALICE, { iat: now, exp: now + 601 }))).toBe(
      'token lifetime exceeds the accepted maximum',
    );
  });
});

describe('provider-specific shapes', () => {
  it('okta: a user whose login equals a client id is still a user (it has a uid)', async () => {
    const okta = await ProviderIssuer.start('okta', { audience: AUDIENCE });
    try {
      const token = okta.userToken(
        { ...ALICE, clientId: PAYMENT_CLIENT.okta },
        { sub: PAYMENT_CLIENT.okta },
      );
      expect((await verifierFor(okta).verify(token)).kind).toBe('user');
    } finally {
      await okta.stop();
    }
  });

  it("keycloak: a user named like another client's service account is not that service", async () => {
    const keycloak = await ProviderIssuer.start('keycloak', { audience: AUDIENCE });
    try {
      const token = keycloak.userToken({
        ...ALICE,
        username: `service-account-${PAYMENT_CLIENT.keycloak}`,
      });
      expect((await verifierFor(keycloak).verify(token)).kind).toBe('user');
    } finally {
      await keycloak.stop();
    }
  });

  it('auth0: roles from the namespaced claim and permissions, merged', async () => {
    const auth0 = await ProviderIssuer.start('auth0', { audience: AUDIENCE });
    try {
      const verifier = verifierFor(auth0, {
        rolesClaims: ['https://acme.example/roles', 'permissions'],
      });
      const token = auth0.userToken(ALICE, { permissions: ['admin', 'user'] });

      expect((await verifier.verify(token)).roles).toEqual(['user', 'admin']);
    } finally {
      await auth0.stop();
    }
  });
});
