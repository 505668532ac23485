import { discoverIssuer } from './issuer-discovery';

/** A fetch that answers each URL from a table, 404 otherwise, and records what was asked. */
function fetchFrom(table: Record<string, unknown>): { fetchFn: typeof fetch; asked: string[] } {
  const asked: string[] = [];
  const fetchFn = ((url: string | URL) => {
    asked.push(String(url));
    const body = table[String(url)];
    return Promise.resolve(
      new Response(JSON.stringify(body ?? { error: 'not_found' }), {
        status: body === undefined ? 404 : 200,
      }),
    );
  }) as typeof fetch;
  return { fetchFn, asked };
}

describe(discoverIssuer.name, () => {
  const issuer = 'https://login.acme.example/oauth2/default';

  it('falls back to RFC 8414 metadata where there is no OpenID configuration (Okta)', async () => {
    const { fetchFn, asked } = fetchFrom({
      [`${issuer}/.well-known/oauth-authorization-server`]: {
        issuer,
        jwks_uri: `${issuer}/v1/keys`,
        token_endpoint: `${issuer}/v1/token`,
      },
    });

    await expect(discoverIssuer(issuer, fetchFn, 1_000)).resolves.toMatchObject({
      jwks_uri: `${issuer}/v1/keys`,
    });
    expect(asked).toEqual([
      `${issuer}/.well-known/openid-configuration`,
      `${issuer}/.well-known/oauth-authorization-server`,
    ]);
  });

  it("keeps Auth0's trailing slash in the issuer it compares, without doubling it in the URL", async () => {
    const auth0 = 'https://acme.eu.auth0.com/';
    const { fetchFn, asked } = fetchFrom({
      'https://acme.eu.auth0.com/.well-known/openid-configuration': {
        issuer: auth0,
        jwks_uri: `${auth0}.well-known/jwks.json`,
      },
    });

    await expect(discoverIssuer(auth0, fetchFn, 1_000)).resolves.toMatchObject({ issuer: auth0 });
    expect(asked).toEqual(['https://acme.eu.auth0.com/.well-known/openid-configuration']);
  });

  it.each(['jwks_uri', 'token_endpoint'])(
    'refuses an https issuer whose discovery names a cleartext %s',
    async (name) => {
      const { fetchFn } = fetchFrom({
        [`${issuer}/.well-known/openid-configuration`]: {
          issuer,
          jwks_uri: `${issuer}/v1/keys`,
          token_endpoint: `${issuer}/v1/token`,
          [name]: `http://login.acme.example/${name}`,
        },
      });

      await expect(discoverIssuer(issuer, fetchFn, 1_000)).rejects.toThrow(
        `discovery names a cleartext ${name}`,
      );
    },
  );

  it('does not fall back when the OpenID configuration fails otherwise than with 404', async () => {
    const fetchFn = (() => Promise.resolve(new Response('', { status: 503 }))) as typeof fetch;

    await expect(discoverIssuer(issuer, fetchFn, 1_000)).rejects.toThrow('answered 503');
  });
});
