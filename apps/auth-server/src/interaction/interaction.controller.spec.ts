import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientCredentials, loginWithPkce } from '../testing/oidc-client';
import { openLoginForm, submitLogin } from '../testing/http';
import { providerConsole, startTestServer, type TestServer } from '../testing/test-server';
import { InteractionController } from './interaction.controller';

describe(InteractionController.name, () => {
  let server: TestServer;
  /** Every credential, token and cookie the tests saw; none may show up in the logs. */
  const secrets: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ LOGIN_MAX_FAILURES: '3' });
  });
  afterAll(() => server.close());

  describe('POST /interaction/:uid/login', () => {
    it('answers an unknown user exactly like a wrong password', async () => {
      const form = await openLoginForm(server.issuer);
      secrets.push(form.csrf, ...form.cookie.split('; ').map((cookie) => cookie.split('=')[1]));

      const unknownUser = await submitLogin(form, { username: 'mallory', password: 'guess-1' });
      const wrongPassword = await submitLogin(form, { username: 'carol', password: 'guess-2' });
      secrets.push('guess-1', 'guess-2');

      expect(unknownUser).toEqual({
        status: 401,
        alert: 'Wrong user name or password.',
        location: null,
        retryAfter: null,
      });
      expect(wrongPassword).toEqual(unknownUser);
    });

    it('locks a user name and IP address after LOGIN_MAX_FAILURES failures, even for the right password', async () => {
      const form = await openLoginForm(server.issuer);
      for (let attempt = 1; attempt <= 3; attempt++) {
        expect(
          (await submitLogin(form, { username: 'alice', password: `wrong-${attempt}` })).status,
        ).toBe(401);
        secrets.push(`wrong-${attempt}`);
      }

      const locked = await submitLogin(form, { username: 'alice', password: 'alice' });
      expect(locked.status).toBe(429);
      expect(Number(locked.retryAfter)).toBeGreaterThan(0);
      expect(locked.alert).toBe('Too many failed sign-ins. Try again later.');
      // Other user names from the same address are not locked out with alice.
      const bob = await submitLogin(form, { username: 'bob', password: 'bob' });
      expect(bob.status).toBe(303);
    });

    it('rejects a post without the CSRF cookie', async () => {
      const form = await openLoginForm(server.issuer);
      const withoutCsrfCookie = form.cookie
        .split('; ')
        .filter((cookie) => !cookie.startsWith('csrf='))
        .join('; ');

      const response = await submitLogin(
        form,
        { username: 'carol', password: 'carol' },
        withoutCsrfCookie,
      );
      expect(response.status).toBe(403);
      expect(response.location).toBeNull();
    });

    it('rejects a post whose CSRF token is not the one of the cookie', async () => {
      const form = await openLoginForm(server.issuer);
      const response = await submitLogin(
        { ...form, csrf: 'x'.repeat(43) },
        { username: 'carol', password: 'carol' },
      );
      expect(response.status).toBe(403);
    });

    it('signs in with the right password and a matching CSRF token', async () => {
      const form = await openLoginForm(server.issuer);
      const response = await submitLogin(form, { username: 'carol', password: 'carol' });
      expect(response.status).toBe(303);
      expect(new URL(response.location ?? '').pathname).toMatch(/^\/auth\//);
    });
  });

  it('logs nothing secret', async () => {
    const form = await openLoginForm(server.issuer);
    await submitLogin(form, { username: 'carol', password: 'not-carols-password' });
    const tokens = await loginWithPkce({
      issuer: server.issuer,
      username: 'carol',
      password: 'carol',
      scope: 'openid offline_access orders:read',
    });
    const clientSecret = readFileSync(
      join(server.config.clientSecretsDir, 'order.client-secret'),
      'utf8',
    ).trim();
    const service = await clientCredentials({
      issuer: server.issuer,
      clientId: 'order',
      clientSecret,
      scope: '',
    });
    const keysFile = (name: string) => readFileSync(join(server.config.keysDir, name), 'utf8');
    secrets.push(
      'not-carols-password',
      form.csrf,
      ...form.cookie.split('; ').map((cookie) => cookie.split('=')[1]),
      tokens.access_token,
      tokens.refresh_token ?? '',
      tokens.id_token ?? '',
      service.access_token,
      clientSecret,
      keysFile('cookie-keys').trim(),
      ...JSON.parse(keysFile('signing-keys.json')).keys.map((key: { d: string }) => key.d),
    );

    const logs = [...server.logs, ...providerConsole].join('\n');
    expect(logs).toContain('Failed sign-in'); // the capture works ...
    for (const secret of secrets.filter(Boolean)) expect(logs).not.toContain(secret); // ... and holds no secret
  });
});
