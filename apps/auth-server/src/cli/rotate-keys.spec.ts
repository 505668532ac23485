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

  const rotate = (keysDir: string) =>
    promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/auth-server/src/cli/rotate-keys.ts'],
      {
        cwd: WORKSPACE_ROOT,
        env: { PATH: process.env.PATH, KEYS_DIR: keysDir, JWKS_MAX_AGE: String(JWKS_MAX_AGE) },
      },
    );
  /** Long enough for a restart of the server, short enough for a test. */
  const JWKS_MAX_AGE = 10;

  it('publishes the next key at once, and signs with it only once JWKS_MAX_AGE has passed', async () => {
    const before = await startTestServer();
    const oldToken = await serviceToken(before);
    const oldKid = decodeJwt(oldToken).header.kid;
    await before.close();

    const rotation = await rotate(before.config.keysDir);
    expect(rotation.stdout).toContain('Rotated');
    const { keys } = JSON.parse(readFileSync(before.config.signingKeysFile, 'utf8')) as {
      keys: { kid: string; alg: string; activates_at?: number }[];
    };
    const next = keys.find((key) => key.alg === 'ES256' && key.activates_at !== undefined);
    const activatesAtMs = (next?.activates_at ?? 0) * 1000;

    const after = await startTestServer({ PORT: String(before.config.port) }, before.dir);
    try {
      const jwks = await getJson<{ keys: JsonWebKey[] }>(`${after.issuer}/jwks`);
      expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, next?.kid]));
      const beforeActivation = await serviceToken(after);
      expect(Date.now()).toBeLessThan(activatesAtMs); // else the restart took too long for this test
      expect(decodeJwt(beforeActivation).header.kid).toBe(oldKid);

      await new Promise((resolve) => setTimeout(resolve, activatesAtMs - Date.now() + 100));
      const afterActivation = await serviceToken(after);

      expect(decodeJwt(afterActivation).header.kid).toBe(next?.kid);
      expect(verifyJwt(afterActivation, jwks).payload.client_id).toBe('order');
      expect(verifyJwt(oldToken, jwks).payload.client_id).toBe('order');
    } finally {
      await after.close();
    }
  }, 30_000);

  it('refuses a second rotation while the next keys do not sign yet', async () => {
    const server = await startTestServer();
    await server.close();
    await rotate(server.config.keysDir);

    await expect(rotate(server.config.keysDir)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('A rotation is under way'),
    });
  });
});
