import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readConfig, webEnv } from './config.mjs';

/** The README's config table, as generated from the schema's descriptions and defaults. */
function configTable(): string {
  const { properties } = z.toJSONSchema(webEnv, { io: 'input' }) as {
    properties: Record<string, { default?: unknown; description?: string }>;
  };
  const rows = Object.entries(properties).map(
    ([name, { default: value, description }]) =>
      `| \`${name}\` | ${value === undefined ? '' : `\`${String(value)}\``} | ${description} |`,
  );
  return ['| Variable | Default | Description |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Trims table cells, so Prettier's column alignment does not count. */
function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|')
        : line,
    )
    .join('\n');
}

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
    expect(normalizeTables(readme)).toContain(normalizeTables(configTable()));
  });
});
