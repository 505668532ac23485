import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const WORKSPACE = resolve(__dirname, '../../..');

/** The packages, of those named, that a fresh process loads when it requires `entries`. */
function packagesLoadedBy(entries: string[], packages: string[]): string[] {
  const script =
    entries.map((entry) => `require(${JSON.stringify(entry)});`).join(' ') +
    `const loaded = Object.keys(require.cache);` +
    `process.stdout.write(JSON.stringify(${JSON.stringify(packages)}.filter((name) =>` +
    ` loaded.some((path) => path.includes('/node_modules/' + name + '/')))));`;
  const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: WORKSPACE,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(output) as string[];
}

// What each entry point weighs is memory every service pays: idle RSS is one of the
// project's targets (docs/BENCHMARKS.md), and a package loaded for nothing costs megabytes.
describe('what each entry point of @acme/bootstrap loads', () => {
  it('the main one, with @acme/auth: no HTTP server, OpenAPI, broker client or database', () => {
    const loaded = packagesLoadedBy(
      ['./libs/auth/src/index.ts', './libs/bootstrap/src/index.ts'],
      ['@nestjs/swagger', 'fastify', 'ioredis', 'nats', 'drizzle-orm', 'pg'],
    );

    expect(loaded).toEqual([]);
  });

  it("a microservice's: no HTTP server, OpenAPI, broker client or database engine", () => {
    // The broker client is loaded once a broker is configured (BROKER_URL), and a database
    // engine once openDatabase() knows which one: PostgreSQL or the embedded PGlite.
    const loaded = packagesLoadedBy(
      ['./libs/bootstrap/src/microservice.ts', './libs/events/src/index.ts'],
      ['@nestjs/swagger', 'fastify', 'ioredis', 'nats', 'pg', '@electric-sql/pglite'],
    );

    expect(loaded).toEqual([]);
  });

  it("the HTTP app's: Fastify; OpenAPI only once API_DOCS asks for it, ioredis once Redis is configured", () => {
    const loaded = packagesLoadedBy(
      ['./libs/bootstrap/src/http.ts', './libs/edge/src/index.ts'],
      ['@nestjs/swagger', 'fastify', 'ioredis', 'pg', '@electric-sql/pglite'],
    );

    expect(loaded).toEqual(['fastify']);
  });
});
