import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from './config';

describe(parseConfig.name, () => {
  const problemsOf = (env: Record<string, string>): string => {
    try {
      parseConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the configuration to be refused');
  };

  it('has working defaults for development', () => {
    expect(parseConfig({})).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 3001,
      issuer: 'http://localhost:3001',
      apiAudience: 'urn:acme:api',
      accessTokenTtl: 300,
      exchangedTokenTtl: 120,
      tokenSigningAlg: 'ES256',
      keysDir: resolve('.dev/auth-server/keys'),
      signingKeysFile: resolve('.dev/auth-server/keys/signing-keys.json'),
      clientSecretsDir: resolve('.dev/secrets'),
      usersFile: resolve('apps/auth-server/dev/users.json'),
      redisUrl: undefined,
      loginMaxFailures: 5,
    });
  });

  it('carries the keys of the shared LoggingModule under their own names', () => {
    expect(parseConfig({ LOG_LEVEL: 'warn', LOG_FORMAT: 'json' })).toMatchObject({
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    });
    expect(problemsOf({ LOG_FORMAT: 'text' })).toContain('\n  LOG_FORMAT:');
  });

  it('derives the default issuer from PORT', () => {
    expect(parseConfig({ PORT: '4000' }).issuer).toBe('http://localhost:4000');
  });

  it('lists every bad variable by name', () => {
    const message = problemsOf({
      PORT: 'x',
      ISSUER: 'ftp://example.com',
      ACCESS_TOKEN_TTL: '601',
      TOKEN_SIGNING_ALG: 'HS256',
      REDIS_URL: 'http://localhost:6379',
    });
    for (const name of ['PORT', 'ISSUER', 'ACCESS_TOKEN_TTL', 'TOKEN_SIGNING_ALG', 'REDIS_URL']) {
      expect(message).toContain(`\n  ${name}:`);
    }
  });

  it('requires real secrets and a shared store in production', () => {
    const message = problemsOf({ NODE_ENV: 'production', PORT: 'x' });
    for (const name of ['PORT', 'ISSUER', 'COOKIE_KEYS', 'SIGNING_KEYS_FILE', 'REDIS_URL']) {
      expect(message).toContain(`\n  ${name}:`);
    }
  });

  it('does not fall back to the development users in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toContain(
      '\n  USERS_FILE: required in production',
    );
  });

  describe('the mutual-TLS token endpoint (RFC 8705)', () => {
    it('listens on 3443 with the dev certificates outside production', () => {
      expect(parseConfig({}).mtls).toEqual({
        host: '127.0.0.1',
        port: 3443,
        url: 'https://localhost:3443',
        trustDomain: 'acme.internal',
        caFile: resolve('.dev/certs/ca.crt'),
        certFile: resolve('.dev/certs/auth-server.crt'),
        keyFile: resolve('.dev/certs/auth-server.key'),
      });
    });

    it("knows the services' SPIFFE trust domain", () => {
      expect(parseConfig({ TRUST_DOMAIN: 'acme.test' }).mtls?.trustDomain).toBe('acme.test');
      expect(problemsOf({ TRUST_DOMAIN: 'spiffe://acme.test' })).toContain('TRUST_DOMAIN');
    });

    it('is off with MTLS_PORT=0, and in production unless MTLS_PORT is set', () => {
      expect(parseConfig({ MTLS_PORT: '0' }).mtls).toBeUndefined();
      expect(problemsOf({ NODE_ENV: 'production' })).not.toContain('MTLS');
    });

    it('needs MTLS_URL in production, an https URL', () => {
      expect(problemsOf({ NODE_ENV: 'production', MTLS_PORT: '3443' })).toContain(
        '\n  MTLS_URL: required in production with MTLS_PORT',
      );
      expect(problemsOf({ MTLS_URL: 'http://auth-server:3443' })).toContain('MTLS_URL');
    });
  });

  it('refuses short cookie keys without printing them', () => {
    const message = problemsOf({ COOKIE_KEYS: `${'k'.repeat(32)},short-secret` });
    expect(message).toContain('\n  COOKIE_KEYS: every key needs 32 characters or more');
    expect(message).not.toContain('short-secret');
  });

  describe('the *_FILE convention', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-server-config-'));
    const keysFile = join(dir, 'cookie-keys');
    writeFileSync(keysFile, `${'a'.repeat(32)}\n${'b'.repeat(32)}\n`);

    it('reads a secret from the file named by <NAME>_FILE', () => {
      expect(parseConfig({ COOKIE_KEYS_FILE: keysFile }).cookieKeys).toEqual([
        'a'.repeat(32),
        'b'.repeat(32),
      ]);
    });

    it('refuses both <NAME> and <NAME>_FILE', () => {
      expect(problemsOf({ COOKIE_KEYS: 'c'.repeat(32), COOKIE_KEYS_FILE: keysFile })).toContain(
        '\n  COOKIE_KEYS: set COOKIE_KEYS or COOKIE_KEYS_FILE, not both',
      );
    });

    it('names a file it cannot read', () => {
      expect(problemsOf({ REDIS_URL_FILE: join(dir, 'missing') })).toContain(
        '\n  REDIS_URL_FILE: cannot read',
      );
    });
  });
});
