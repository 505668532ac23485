import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientCredentials, loginWithPkce } from '../testing/oidc-client';
import { openLoginForm, submitLogin } from '../testing/http';
import { deleteKeysUnder, TEST_REDIS_URL, testKeyPrefix } from '../testing/test-redis';
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
  beforeEach(() => server.audits.splice(0));

  const LOGIN = 'POST /interaction/:uid/login';

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
      // Nobody is named: people type passwords into the user name field.
      const failure = {
        event: 'authn_login_fail',
        principal: 'anonymous',
        action: LOGIN,
        reason: 'invalid credentials',
        from: '127.0.0.1',
      };
      expect(server.audits).toEqual([failure, failure]);
      expect(JSON.stringify(server.audits)).not.toMatch(/mallory|carol|guess/);
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
      expect(server.audits.map((audit) => audit.event)).toEqual([
        'authn_login_fail',
        'authn_login_fail',
        'authn_login_fail',
        'authn_login_lock',
      ]);
      expect(server.audits[3]).toMatchObject({
        principal: 'anonymous',
        action: LOGIN,
        reason: expect.stringMatching(/^too many failed sign-ins, locked for \d+ s$/),
      });
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
      expect(server.audits).toEqual([
        {
          event: 'authn_login_success',
          principal: 'user:carol',
          action: LOGIN,
          reason: 'valid credentials',
          from: '127.0.0.1',
        },
      ]);
    });
  });

  describe('POST /interaction/:uid/login on Redis, behind a proxy', () => {
    const prefix = testKeyPrefix();
    let proxied: TestServer;
    const from = (address: string) => ({ 'x-forwarded-for': address });

    beforeAll(async () => {
      proxied = await startTestServer({
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        TRUST_PROXY: 'true',
        LOGIN_MAX_FAILURES: '3',
        LOGIN_ACCOUNT_MAX_FAILURES: '5',
        LOGIN_HASH_CONCURRENCY: '1',
        LOGIN_HASH_QUEUE: '2',
      });
    });
    afterAll(async () => {
      await proxied.close();
      await deleteKeysUnder(prefix);
    });
    beforeEach(() => proxied.audits.splice(0));

    it('checks the password of at most LOGIN_MAX_FAILURES of 20 parallel guesses', async () => {
      const form = await openLoginForm(proxied.issuer);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          submitLogin(form, { username: 'alice', password: `guess-${i}` }),
        ),
      );

      // 401 means the password was checked and was wrong; 429 that it was not checked.
      expect(responses.filter((response) => response.status === 401)).toHaveLength(3);
      expect(responses.filter((response) => response.status === 429)).toHaveLength(17);
    });

    it('locks a user name after LOGIN_ACCOUNT_MAX_FAILURES failures from different addresses', async () => {
      const form = await openLoginForm(proxied.issuer);
      for (let i = 1; i <= 5; i++) {
        const guess = { username: 'bob', password: `wrong-${i}` };
        expect((await submitLogin(form, guess, form.cookie, from(`192.0.2.${i}`))).status).toBe(
          401,
        );
      }

      const locked = await submitLogin(
        form,
        { username: 'bob', password: 'bob' },
        form.cookie,
        from('198.51.100.1'),
      );
      expect(locked.status).toBe(429);
      expect(locked.alert).toBe('Too many failed sign-ins. Try again later.');
      // Each line names the client address the proxy reported.
      expect(proxied.audits.map(({ event, from }) => `${event} ${from}`)).toEqual([
        'authn_login_fail 192.0.2.1',
        'authn_login_fail 192.0.2.2',
        'authn_login_fail 192.0.2.3',
        'authn_login_fail 192.0.2.4',
        'authn_login_fail 192.0.2.5',
        'authn_login_lock 198.51.100.1',
      ]);
    });

    it('counts the addresses of one IPv6 /64 as one client', async () => {
      const form = await openLoginForm(proxied.issuer);
      for (const address of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:aaaa::3']) {
        const guess = { username: 'carol', password: 'wrong' };
        expect((await submitLogin(form, guess, form.cookie, from(address))).status).toBe(401);
      }
      const right = { username: 'carol', password: 'carol' };

      expect((await submitLogin(form, right, form.cookie, from('2001:db8:1:2::99'))).status).toBe(
        429,
      );
      expect((await submitLogin(form, right, form.cookie, from('2001:db8:1:3::1'))).status).toBe(
        303,
      );
    });

    it('refuses with 429 the sign-ins beyond LOGIN_HASH_CONCURRENCY + LOGIN_HASH_QUEUE at once', async () => {
      const form = await openLoginForm(proxied.issuer);
      // Unknown names from many addresses: no throttle applies, only the password check queue.
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          submitLogin(
            form,
            { username: `nobody-${i}`, password: 'guess' },
            form.cookie,
            from(`203.0.113.${i + 1}`),
          ),
        ),
      );

      const checked = responses.filter((response) => response.status === 401);
      const busy = responses.filter((response) => response.status === 429);
      expect(checked.length + busy.length).toBe(12);
      expect(checked.length).toBeGreaterThanOrEqual(3);
      expect(busy.length).toBeGreaterThan(0);
      for (const response of busy) {
        expect(response).toMatchObject({
          alert: 'The server is busy. Try again in a moment.',
          retryAfter: '1',
        });
      }
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
    expect(logs).toContain('"event":"authn_login_fail"'); // the capture works ...
    for (const secret of secrets.filter(Boolean)) expect(logs).not.toContain(secret); // ... and holds no secret
  });
});
