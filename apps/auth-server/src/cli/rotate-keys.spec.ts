import { execFile } from 'node:child_process';
import type { JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { clientCredentials } from '../testing/oidc-client';
import { decodeJwt, getJson, verifyJwt } from '../testing/http';
import { APP_ROOT, startTestServer, type TestServer } from '../testing/test-server';

const WORKSPACE_ROOT = resolve(APP_ROOT, '../..');

describe('npm run keys:rotate', () => {
  const serviceToken = async (server: TestServer) =>
    (
      await clientCredentials({
        issuer: server.issuer,
        clientId: 'order',
        clientSecret: readFileSync(
          join(server.config.clientSecretsDir, 'order.client-secret'),
          'utf8',
        ).trim(),
        scope: 'payments:charge',
      })
    ).access_token;

  it('signs new tokens with a new key and keeps publishing the previous one', async () => {
    const before = await startTestServer();
    const oldToken = await serviceToken(before);
    const oldKid = decodeJwt(oldToken).header.kid;
    await before.close();

    const rotation = await promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/auth-server/src/cli/rotate-keys.ts'],
      { cwd: WORKSPACE_ROOT, env: { PATH: process.env.PATH, KEYS_DIR: before.config.keysDir } },
    );
    expect(rotation.stdout).toContain('Rotated');

    const after = await startTestServer({ PORT: String(before.config.port) }, before.dir);
    try {
      const jwks = await getJson<{ keys: JsonWebKey[] }>(`${after.issuer}/jwks`);
      const newToken = await serviceToken(after);
      const newKid = decodeJwt(newToken).header.kid;

      expect(newKid).not.toBe(oldKid);
      expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
      expect(verifyJwt(newToken, jwks).payload.client_id).toBe('order');
      expect(verifyJwt(oldToken, jwks).payload.client_id).toBe('order');
    } finally {
      await after.close();
    }
  });
});
