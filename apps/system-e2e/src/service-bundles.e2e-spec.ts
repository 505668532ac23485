import { loginWithPkce } from '@acme/auth/testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './support/http';
import { createAndPayOrder } from './support/orders';
import { SecureSystem } from './support/system';

/** Packages each service bundles only in part (tools/webpack), and one it must never load. */
const NOT_LOADED = ['zod', 'class-validator', 'libphonenumber-js'];

/**
 * What the services load from node_modules, as built (tools/webpack/service-webpack-config.js):
 * zod and class-validator are compiled into each bundle, only the parts in use, so neither
 * package is loaded whole at run time, nor libphonenumber-js, which only class-validator's
 * phone-number rule needs. Validation still runs, at every hop. The auth server is built
 * the same way, and checked too.
 */
describe('service bundles', () => {
  const reports = mkdtempSync(join(tmpdir(), 'acme-loaded-modules-'));
  let system: SecureSystem;
  let alice: string;

  beforeAll(async () => {
    // Preloaded into every process of the system: on exit, the files it loaded, in <app>.json.
    const preload = join(reports, 'report-loaded-modules.cjs');
    writeFileSync(
      preload,
      [
        "const { writeFileSync } = require('node:fs');",
        "const { basename, dirname, join } = require('node:path');",
        "process.on('exit', () => {",
        '  const app = basename(dirname(process.argv[1]));',
        `  writeFileSync(join(${JSON.stringify(reports)}, app + '.json'), JSON.stringify(Object.keys(require.cache)));`,
        '});',
      ].join('\n'),
    );
    // The auth server too: it issues the tokens, and each hop exchanges its caller's there.
    system = new SecureSystem('auth-server', { nodeOptions: `--require ${preload}` });
    await system.start();
    ({ access_token: alice } = await loginWithPkce({
      issuer: system.issuerUrl,
      username: 'alice',
      password: 'alice',
      scope: 'openid orders:read orders:write',
    }));
  });

  afterAll(async () => {
    await system?.stop();
    rmSync(reports, { recursive: true, force: true });
  });

  it('validates every hop of a payment, and refuses an unknown field by name', async () => {
    const { created, paid } = await createAndPayOrder(system.gatewayUrl, alice);
    expect(created.status).toBe(201);
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('PAID');

    const refused = await request<{ message: string | string[] }>(
      system.gatewayUrl,
      'POST',
      '/api/orders',
      {
        token: alice,
        body: { items: [{ sku: 'book-1', quantity: 1 }], discount: 100 },
      },
    );
    expect(refused.status).toBe(400);
    expect(String(refused.body.message)).toContain('property discount should not exist');
  });

  it('loads neither zod nor class-validator whole, nor libphonenumber-js, in any process', async () => {
    await system.stop();
    const loaded = Object.fromEntries(
      readdirSync(reports)
        .filter((file) => file.endsWith('.json'))
        .map((file) => [
          file.replace(/\.json$/, ''),
          JSON.parse(readFileSync(join(reports, file), 'utf8')) as string[],
        ]),
    );
    expect(Object.keys(loaded).sort()).toEqual(['auth-server', 'gateway', 'order', 'payment']);
    for (const [service, files] of Object.entries(loaded)) {
      // The reports are real: each process loaded its framework from node_modules.
      expect(files.some((file) => file.includes('/node_modules/@nestjs/core/'))).toBe(true);
      const unwanted = files.filter((file) =>
        NOT_LOADED.some((name) => file.includes(`/node_modules/${name}/`)),
      );
      expect({ service, unwanted }).toEqual({ service, unwanted: [] });
    }
  });
});
