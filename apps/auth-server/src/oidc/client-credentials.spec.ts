import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clientCredentials } from '../testing/oidc-client';
import { basicAuth, decodeJwt, postForm } from '../testing/http';
import { startTestServer, type TestServer } from '../testing/test-server';

describe('client credentials for service clients', () => {
  let server: TestServer;
  const secretOf = (clientId: string) =>
    readFileSync(join(server.config.clientSecretsDir, `${clientId}.client-secret`), 'utf8').trim();

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each([
    ['order', 'payments:charge'],
    ['payment', 'orders:settle'],
  ])('gives %s only its allowed scope %s', async (clientId, allowed) => {
    const tokens = await clientCredentials({
      issuer: server.issuer,
      clientId,
      clientSecret: secretOf(clientId),
      scope: 'payments:charge orders:settle orders:read admin:read',
    });

    const { header, payload } = decodeJwt(tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: clientId,
      client_id: clientId,
      aud: 'urn:acme:api',
      scope: allowed,
    });
    expect(payload).not.toHaveProperty('roles');
  });

  it('rejects a wrong secret', async () => {
    const { status, body } = await postForm(
      `${server.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'payments:charge' },
      basicAuth('order', 'not-the-secret'),
    );
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('refuses the grant to a user-facing client', async () => {
    const { body } = await postForm(`${server.issuer}/token`, {
      grant_type: 'client_credentials',
      client_id: 'cli',
      scope: 'orders:read',
    });
    expect(body).toMatchObject({ error: 'invalid_request' });
    expect(body.error_description).toBe('requested grant type is not allowed for this client');
  });

  it('creates missing secret files outside production, readable by their owner only', () => {
    for (const clientId of ['order', 'payment']) {
      const file = join(server.config.clientSecretsDir, `${clientId}.client-secret`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(secretOf(clientId)).toMatch(/^[\w-]{43}$/);
    }
  });
});
