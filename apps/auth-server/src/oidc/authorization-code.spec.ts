import { authorize, loginWithPkce } from '../testing/oidc-client';
import { startTestServer, type TestServer } from '../testing/test-server';
import { authorizationUrl, getJson, getManual, postForm, verifyJwt } from '../testing/http';
import type { JsonWebKey } from 'node:crypto';

describe('authorization code flow with PKCE', () => {
  let server: TestServer;
  let jwks: { keys: JsonWebKey[] };
  let tokenEndpoint: string;

  beforeAll(async () => {
    server = await startTestServer();
    jwks = await getJson(`${server.issuer}/jwks`);
    tokenEndpoint = `${server.issuer}/token`;
  });
  afterAll(() => server.close());

  const login = (username: string, scope: string) =>
    loginWithPkce({ issuer: server.issuer, username, password: username, scope });

  it('issues an RFC 9068 access token for the API, with the user roles', async () => {
    const tokens = await login('alice', 'openid orders:read orders:write');

    const { header, payload } = verifyJwt(tokens.access_token, jwks);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({
      iss: server.issuer,
      aud: 'urn:acme:api',
      sub: 'alice',
      client_id: 'cli',
      scope: 'orders:read orders:write',
      roles: ['user'],
    });
    expect(payload.jti).toEqual(expect.any(String));
    expect(Number(payload.exp) - Number(payload.iat)).toBe(300);
    expect(verifyJwt(tokens.id_token ?? '', jwks).payload).toMatchObject({
      sub: 'alice',
      aud: 'cli',
    });
  });

  it('grants admin:read to bob, who has the admin role', async () => {
    const { access_token } = await login('bob', 'openid orders:read admin:read');
    expect(verifyJwt(access_token, jwks).payload).toMatchObject({
      scope: 'orders:read admin:read',
      roles: ['user', 'admin'],
    });
  });

  it('silently drops admin:read for alice, who has not', async () => {
    const { access_token } = await login('alice', 'openid orders:read admin:read');
    expect(verifyJwt(access_token, jwks).payload.scope).toBe('orders:read');
  });

  it('never grants a service scope to a user', async () => {
    const { access_token } = await login(
      'carol',
      'openid orders:read payments:charge orders:settle',
    );
    expect(verifyJwt(access_token, jwks).payload.scope).toBe('orders:read');
  });

  describe('redeeming the code', () => {
    const codeFor = () =>
      authorize({
        issuer: server.issuer,
        username: 'carol',
        password: 'carol',
        scope: 'openid orders:read',
      });
    const redeem = (
      code: string,
      codeVerifier: string,
      redirectUri = 'http://127.0.0.1/callback',
    ) =>
      postForm(tokenEndpoint, {
        grant_type: 'authorization_code',
        client_id: 'cli',
        code,
        code_verifier: codeVerifier,
        redirect_uri: redirectUri,
      });

    it('rejects a wrong code_verifier', async () => {
      const { code } = await codeFor();
      const { status, body } = await redeem(code, 'a'.repeat(43));
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });

    it('rejects a code used a second time', async () => {
      const { code, codeVerifier } = await codeFor();
      expect((await redeem(code, codeVerifier)).status).toBe(200);
      const { status, body } = await redeem(code, codeVerifier);
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });

    it('rejects a redirect_uri other than the one of the authorization request', async () => {
      const { code, codeVerifier } = await codeFor();
      const { status, body } = await redeem(code, codeVerifier, 'http://127.0.0.1/other');
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });
  });

  describe('the authorization request', () => {
    /** Where the request sends the browser, if anywhere, and the page it shows otherwise. */
    const request = async (params: Record<string, string>) => {
      const response = await getManual(authorizationUrl(server.issuer, params));
      return {
        status: response.status,
        location: response.headers.get('location'),
        html: await response.text(),
      };
    };

    it('shows an error page, without redirecting, for a redirect_uri that is not registered', async () => {
      const { status, location, html } = await request({
        redirect_uri: 'http://127.0.0.1.evil.example/callback',
      });
      expect(status).toBe(400);
      expect(location).toBeNull();
      expect(html).toContain('redirect_uri did not match any of the client');
    });

    it('shows an error page for an unknown client', async () => {
      const { status, location, html } = await request({ client_id: 'mallory' });
      expect(status).toBe(400);
      expect(location).toBeNull();
      expect(html).toContain('invalid_client');
    });

    it.each([
      ['the plain PKCE method', { code_challenge_method: 'plain' }, /code_challenge_method/],
      [
        'a request without PKCE',
        { code_challenge: '', code_challenge_method: '' },
        /requires PKCE/,
      ],
      ['the implicit flow', { response_type: 'token' }, /unsupported response_type/],
    ])('refuses %s', async (_case, params, description) => {
      const { location } = await request(params);
      const callback = new URL(location ?? '');
      expect(callback.origin + callback.pathname).toBe('http://127.0.0.1/callback');
      const response = new URLSearchParams(callback.search || callback.hash.slice(1));
      expect(response.get('error_description')).toMatch(description);
    });
  });

  it('publishes its endpoints and allows the code flow with S256 PKCE only', async () => {
    expect(await getJson(`${server.issuer}/.well-known/openid-configuration`)).toMatchObject({
      issuer: server.issuer,
      jwks_uri: `${server.issuer}/jwks`,
      end_session_endpoint: `${server.issuer}/session/end`,
      revocation_endpoint: `${server.issuer}/token/revocation`,
      introspection_endpoint: `${server.issuer}/token/introspection`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
    });
  });

  it('offers RP-initiated logout, back to a registered page only', async () => {
    const logout = (page: string) =>
      fetch(
        `${server.issuer}/session/end?${new URLSearchParams({ client_id: 'web', post_logout_redirect_uri: page })}`,
      );
    expect((await logout('http://localhost:4200/')).status).toBe(200);
    expect((await logout('http://evil.example/')).status).toBe(400);
  });

  it('does not support the password grant', async () => {
    const { body } = await postForm(tokenEndpoint, {
      grant_type: 'password',
      client_id: 'cli',
      username: 'alice',
      password: 'alice',
    });
    expect(body.error).toBe('unsupported_grant_type');
  });

  describe('the client of the token command', () => {
    it('reports a wrong password with the message of the login page', async () => {
      await expect(
        loginWithPkce({
          issuer: server.issuer,
          username: 'carol',
          password: 'nope',
          scope: 'openid',
        }),
      ).rejects.toThrow('Sign-in failed (HTTP 401): Wrong user name or password.');
    });

    it('says when the server is not running', async () => {
      await expect(
        loginWithPkce({
          issuer: 'http://127.0.0.1:9',
          username: 'carol',
          password: 'carol',
          scope: 'openid',
        }),
      ).rejects.toThrow(
        /Cannot reach the auth server at http:\/\/127\.0\.0\.1:9 .*Start it with `npm start`/,
      );
    });
  });

  it('answers GET /healthz', async () => {
    expect((await fetch(`${server.issuer}/healthz`)).status).toBe(200);
  });
});
