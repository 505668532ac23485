import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable, normalizeTables } from '@acme/bootstrap';
import { readConfig, webEnv } from './config.mjs';

describe(readConfig.name, () => {
  const problemsOf = (env: Record<string, string>): string => {
    try {
      readConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the configuration to be refused');
  };

  it('has working defaults for development', () => {
    expect(readConfig({})).toEqual({
      host: '127.0.0.1',
      port: 4200,
      issuer: 'http://localhost:3001',
      gatewayUrl: 'http://localhost:3000',
      clientId: 'web',
    });
  });

  it('requires https URLs of the gateway and the issuer in production, listing every bad key', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      GATEWAY_URL: 'http://api.example.com',
      PORT: 'eighty',
    });
    expect(problems).toContain('GATEWAY_URL: must use https in production');
    expect(problems).toContain('AUTH_ISSUER: required in production');
    expect(problems).toContain('PORT:');
  });

  it('keeps the issuer verbatim (it must equal the discovery document) and the gateway without a trailing slash', () => {
    const config = readConfig({
      AUTH_ISSUER: 'https://id.example.com/realm',
      GATEWAY_URL: 'https://api.example.com/',
    });
    expect(config.issuer).toBe('https://id.example.com/realm');
    expect(config.gatewayUrl).toBe('https://api.example.com');
  });

  it('is documented in the README (regenerate the table from config.mjs)', () => {
    const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
    expect(normalizeTables(readme)).toContain(normalizeTables(configTable(webEnv)));
  });
});
