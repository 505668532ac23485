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
    it('use the configured secret, the same on every replica', () => {
      const options = optionsOf({ AUTH_DPOP_NONCE: 'true', AUTH_DPOP_NONCE_SECRET: SECRET });
      expect(options?.nonceSecret).toEqual(Buffer.from(SECRET));
    });

    it('read the secret from a mounted file, and refuse both at once', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dpop-nonce-'));
      try {
        const file = join(dir, 'secret');
        writeFileSync(file, `${SECRET}\n`);
        const env = { AUTH_DPOP_NONCE: 'true', AUTH_DPOP_NONCE_SECRET_FILE: file };
        expect(optionsOf(env)?.nonceSecret).toEqual(Buffer.from(SECRET));
        expect(() => optionsOf({ ...env, AUTH_DPOP_NONCE_SECRET: SECRET })).toThrow(
          'AUTH_DPOP_NONCE_SECRET_FILE: set AUTH_DPOP_NONCE_SECRET or AUTH_DPOP_NONCE_SECRET_FILE, not both',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('get a secret of their own outside production, and need one in production', () => {
      expect(optionsOf({ AUTH_DPOP_NONCE: 'true' })?.nonceSecret).toHaveLength(32);
      expect(() =>
        optionsOf({
          NODE_ENV: 'production',
          AUTH_DPOP_PUBLIC_ORIGIN: 'https://api.acme.example',
          AUTH_DPOP_NONCE: 'true',
        }),
      ).toThrow('AUTH_DPOP_NONCE_SECRET: required in production with AUTH_DPOP_NONCE=true');
    });

    it('refuse a short secret, naming the key', () => {
      expect(() => optionsOf({ AUTH_DPOP_NONCE: 'true', AUTH_DPOP_NONCE_SECRET: 'short' })).toThrow(
        /AUTH_DPOP_NONCE_SECRET: at least 32 characters/,
      );
    });
  });
});
