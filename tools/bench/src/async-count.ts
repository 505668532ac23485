/**
 * How many async resources (promises, ticks, timers, socket requests) each service creates per
 * request, secure against insecure: exact counts, where CPU figures are noisy. On node 20 every
 * one of them runs the hooks of the AsyncLocalStorage that forwards the caller's token, so each
 * saved promise is time saved in every service that stores a call context.
 *
 *   npm run bench:async -- --path read
 *
 * Uses the production builds in dist/apps (`npm run bench` builds them) and what `npm run bench`
 * needs, but for haproxy. The counts include the work that follows an answer (a write's
 * confirmation) and a second of idle timers, spread over the requests.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ASYNC_COUNTER,
  ASYNC_COUNTS_DIR,
  asyncCountsTable,
  countsPerRequest,
} from './lib/async-counts';
import type { AsyncCounts } from './lib/async-counts';
import { drive } from './lib/load';
import {
  benchUserToken,
  BenchSystem,
  DATABASE_URL,
  pathRequests,
  SERVICES,
  startBenchIssuer,
  writeMaterial,
} from './lib/system';
import type { ServiceName } from './lib/system';

const WORKSPACE = resolve(__dirname, '../../..');
const RATE = { read: 300, write: 50 } as const;
const WARM_UP_S = 2;
const MEASURED_S = 6;
const CONNECTIONS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks every service for its counts so far (SIGUSR2) and reads them. */
async function snapshot(bench: BenchSystem): Promise<Record<ServiceName, AsyncCounts>> {
  const files = SERVICES.map((service) => join(ASYNC_COUNTS_DIR, `${bench.pid(service)}.json`));
  for (const file of files) rmSync(file, { force: true });
  for (const service of SERVICES) process.kill(bench.pid(service), 'SIGUSR2');
  const counts: Partial<Record<ServiceName, AsyncCounts>> = {};
  for (let attempt = 0; attempt < 50 && Object.keys(counts).length < SERVICES.length; attempt++) {
    await sleep(100);
    SERVICES.forEach((service, index) => {
      try {
        counts[service] ??= JSON.parse(readFileSync(files[index], 'utf8')) as AsyncCounts;
      } catch {
        // Not written yet.
      }
    });
  }
  if (Object.keys(counts).length < SERVICES.length) {
    throw new Error('a service did not write its async counts: was it started with the counter?');
  }
  return counts as Record<ServiceName, AsyncCounts>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { path: { type: 'string', default: 'read' } } });
  const path = values.path;
  if (path !== 'read' && path !== 'write') {
    throw new Error('usage: async-count.ts [--path read|write]');
  }
  mkdirSync(ASYNC_COUNTS_DIR, { recursive: true });
  const material = await writeMaterial();
  const issuer = await startBenchIssuer(material);
  const logDir = join(WORKSPACE, 'dist/bench-async/logs');
  mkdirSync(logDir, { recursive: true });
  const token = benchUserToken(issuer);
  const perMode: Partial<Record<'secure' | 'insecure', Record<ServiceName, AsyncCounts>>> = {};
  try {
    for (const mode of ['secure', 'insecure'] as const) {
      const bench = new BenchSystem({
        mode,
        workspace: WORKSPACE,
        material,
        logDir,
        issuer: issuer.issuer,
        databaseUrl: DATABASE_URL,
        runId: `async${Date.now() % 100_000}`,
        nodeFlags: ['--require', ASYNC_COUNTER],
      });
      try {
        await bench.start();
        const ids = await bench.seedOrdersFor(path, RATE[path] * (WARM_UP_S + MEASURED_S));
        const requests = pathRequests(path, token, ids);
        const load = { connections: CONNECTIONS, rate: RATE[path] };
        await drive(bench.gatewayUrl, requests, { ...load, durationS: WARM_UP_S });
        const before = await snapshot(bench);
        const result = await drive(bench.gatewayUrl, requests, { ...load, durationS: MEASURED_S });
        if (result.failed > 0) {
          throw new Error(
            `${mode}: ${result.failed} requests failed (${JSON.stringify(result.statusCodes)})`,
          );
        }
        await sleep(1_000);
        const after = await snapshot(bench);
        perMode[mode] = Object.fromEntries(
          SERVICES.map((service) => [
            service,
            countsPerRequest(before[service], after[service], result.ok),
          ]),
        ) as Record<ServiceName, AsyncCounts>;
      } finally {
        await bench.stop();
        await bench.dropSchemas();
      }
    }
  } finally {
    await issuer.stop();
    material.remove();
  }
  const { secure, insecure } = perMode as Required<typeof perMode>;
  process.stdout.write(
    `## Async resources created per request, ${path} (${RATE[path]}/s, ${MEASURED_S} s)\n\n` +
      SERVICES.map((service) =>
        asyncCountsTable(`${path}, ${service}`, secure[service], insecure[service], 12),
      ).join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
