import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { dpopEnv, dpopOptionsFrom } from './dpop.env';
import type { DpopConfig } from './dpop.env';
import { parseEnv } from './env';

const schema = z.object({
  ...dpopEnv(),
  PORT: z.coerce.number().default(3000),
  NODE_ENV: z.string().default('development'),
  AUTH_PROVIDER: z.enum(['generic', 'keycloak', 'auth0', 'okta']).default('generic'),
});

function optionsOf(env: Record<string, string>) {
  const config = parseEnv(schema, env) as DpopConfig;
  return dpopOptionsFrom({ get: (key) => config[key] });
}

const SECRET = 'a-nonce-secret-of-at-least-32-characters';

describe(dpopOptionsFrom.name, () => {
  it('requires DPoP-bound tokens by default with the bundled issuer, proofs for http://localhost:<PORT>, in memory, without nonces', () => {
    expect(optionsOf({ PORT: '3100' })).toEqual({
      mode: 'required',
      publicOrigin: 'http://localhost:3100',
      maxAgeSec: 60,
      algorithms: expect.arrayContaining(['ES256', 'PS256']),
      replayCache: undefined,
      nonceSecret: undefined,
    });
  });

  it('takes bearer tokens bound to nothing by default with an external provider profile', () => {
    for (const provider of ['keycloak', 'auth0', 'okta']) {
      expect(optionsOf({ AUTH_PROVIDER: provider })?.mode).toBe('allowed');
    }
    expect(optionsOf({ AUTH_PROVIDER: 'keycloak', AUTH_DPOP: 'required' })?.mode).toBe('required');
    expect(optionsOf({ AUTH_DPOP: 'allowed' })?.mode).toBe('allowed');
  });

  it('cannot start in production without the public origin while DPoP is required', () => {
    expect(() => optionsOf({ NODE_ENV: 'production' })).toThrow(
      'AUTH_DPOP_PUBLIC_ORIGIN: required in production with AUTH_DPOP=required',
    );
  });

  it('checks no proof in production without the public origin when DPoP is allowed', () => {
    expect(optionsOf({ NODE_ENV: 'production', AUTH_DPOP: 'allowed' })).toBeUndefined();
    expect(() => optionsOf({ NODE_ENV: 'production', AUTH_DPOP: 'required' })).toThrow(
      'AUTH_DPOP_PUBLIC_ORIGIN: required in production with AUTH_DPOP=required',
    );
  });

  describe('nonces', () => {
    let dir: string;
    const secretFile = (content: string) => {
      const file = join(dir, `secret-${Math.random()}`);
      writeFileSync(file, content);
      return file;
    };
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'dpop-nonce-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('use the secret of the mounted file, the same on every replica', () => {
      const env = {
        AUTH_DPOP_NONCE: 'true',
        AUTH_DPOP_NONCE_SECRET_FILE: secretFile(`${SECRET}\n`),
      };
      expect(optionsOf(env)?.nonceSecret).toEqual(Buffer.from(SECRET));
    });

    it('get a secret of their own outside production, and need the file in production', () => {
      expect(optionsOf({ AUTH_DPOP_NONCE: 'true' })?.nonceSecret).toHaveLength(32);
      expect(() =>
        optionsOf({
          NODE_ENV: 'production',
          AUTH_DPOP_PUBLIC_ORIGIN: 'https://api.acme.example',
          AUTH_DPOP_NONCE: 'true',
        }),
      ).toThrow('AUTH_DPOP_NONCE_SECRET_FILE: required in production with AUTH_DPOP_NONCE=true');
    });

    it('refuse a short secret or a missing file, naming the key', () => {
      expect(() =>
        optionsOf({ AUTH_DPOP_NONCE: 'true', AUTH_DPOP_NONCE_SECRET_FILE: secretFile('short') }),
      ).toThrow(/AUTH_DPOP_NONCE_SECRET_FILE: .* holds fewer than 32 characters/);
      expect(() =>
        optionsOf({ AUTH_DPOP_NONCE: 'true', AUTH_DPOP_NONCE_SECRET_FILE: join(dir, 'missing') }),
      ).toThrow(/AUTH_DPOP_NONCE_SECRET_FILE/);
    });
  });
});
