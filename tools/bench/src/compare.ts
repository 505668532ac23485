/**
 * Two builds of the secure system side by side: what one costs in CPU per request over the
 * other, and its latency at p50 and p99, measured as `npm run bench` measures one system against
 * another (rounds at a fixed rate, the systems taking turns, the median of the round-by-round
 * differences). Run the same build twice to see how far rounds differ on this machine.
 *
 *   node -r @swc-node/register tools/bench/src/compare.ts ../before . --path read --rate 700 --rounds 20
 *
 * Each workspace is a checkout with production builds of gateway, order and payment in
 * `dist/apps` (`npx nx run-many -t build -p gateway order payment --configuration=production`)
 * and its `node_modules` (a link to another checkout's will do). Needs what `npm run bench`
 * needs, but for haproxy.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { drive } from './lib/load';
import type { RequestSpec } from './lib/load';
import { processStats } from './lib/process-stats';
import { median, medianRoundDifference } from './lib/report';
import {
  benchUserToken,
  BenchSystem,
  DATABASE_URL,
  pathRequests,
  SERVICES,
  startBenchIssuer,
  writeMaterial,
} from './lib/system';

const ROUND_S = 4;
const CONNECTIONS = 8;

interface CompareOptions {
  before: string;
  after: string;
  path: 'read' | 'write';
  rate: number;
  rounds: number;
}

function parseOptions(): CompareOptions {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      path: { type: 'string', default: 'read' },
      rate: { type: 'string', default: '700' },
      rounds: { type: 'string', default: '20' },
    },
  });
  const [before, after] = positionals.map((workspace) => resolve(workspace));
  const [path, rate, rounds] = [values.path, Number(values.rate), Number(values.rounds)];
  if (!before || !after || (path !== 'read' && path !== 'write') || !(rate > 0) || !(rounds > 0)) {
    throw new Error(
      'usage: compare.ts <workspace before> <workspace after> [--path read|write] [--rate N] [--rounds N]',
    );
  }
  for (const workspace of [before, after]) {
    for (const service of SERVICES) {
      const main = join(workspace, 'dist/apps', service, 'main.js');
      if (!existsSync(main)) throw new Error(`no production build at ${main}: build it first`);
    }
  }
  return { before, after, path, rate, rounds };
}

async function main(): Promise<void> {
  const { before, after, path, rate, rounds } = parseOptions();
  const material = await writeMaterial();
  const issuer = await startBenchIssuer(material);
  const logDir = resolve('dist/bench-compare/logs');
  mkdirSync(logDir, { recursive: true });
  const runId = `cmp${Date.now() % 100_000}`;
  const system = (workspace: string, name: string) =>
    new BenchSystem({
      mode: 'secure',
      workspace,
      material,
      logDir,
      issuer: issuer.issuer,
      databaseUrl: DATABASE_URL,
      runId: `${runId}${name}`,
    });
  const systems = [system(before, 'a'), system(after, 'b')];
  const token = benchUserToken(issuer);
  try {
    const requests: RequestSpec[] = [];
    for (const bench of systems) {
      await bench.start();
      // Every round and the warm-up.
      const ids = await bench.seedOrdersFor(path, rate * ROUND_S * (rounds + 1));
      requests.push(pathRequests(path, token, ids));
    }
    const cpuSeconds = (bench: BenchSystem) =>
      SERVICES.reduce((sum, service) => sum + processStats(bench.pid(service)).cpuSeconds, 0);
    const usPerRequest: [number[], number[]] = [[], []];
    const p50Ms: [number[], number[]] = [[], []];
    const p99Ms: [number[], number[]] = [[], []];
    // Round -1 warms both up and is not counted; then each round the other system goes first.
    for (let round = -1; round < rounds; round++) {
      const turns = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of turns) {
        const bench = systems[index];
        const cpuBefore = cpuSeconds(bench);
        const result = await drive(bench.gatewayUrl, requests[index], {
          connections: CONNECTIONS,
          durationS: ROUND_S,
          rate,
        });
        if (result.failed > 0) {
          throw new Error(
            `${index === 0 ? before : after}: ${result.failed} requests failed (${JSON.stringify(result.statusCodes)})`,
          );
        }
        const us = ((cpuSeconds(bench) - cpuBefore) * 1e6) / result.ok;
        if (round >= 0) {
          usPerRequest[index].push(us);
          p50Ms[index].push(result.latencyMs.p50);
          p99Ms[index].push(result.latencyMs.p99);
        }
      }
    }
    const us = (value: number) => `${Math.round(value)} us`;
    const ms = (value: number) => `${value.toFixed(2)} ms`;
    const figure = (
      name: string,
      [a, b]: [number[], number[]],
      unit: (value: number) => string,
    ) => {
      const differences = b.map((value, round) => value - a[round]);
      return (
        `${name}:\n` +
        `  before (${before}): ${unit(median(a))}, median of rounds\n` +
        `  after  (${after}): ${unit(median(b))}\n` +
        `  after - before, round by round: median ${unit(medianRoundDifference(b, a))}, ` +
        `from ${unit(Math.min(...differences))} to ${unit(Math.max(...differences))}\n`
      );
    };
    process.stdout.write(
      `${path} at ${rate}/s, ${CONNECTIONS} connections, ${rounds} rounds of ${ROUND_S} s\n` +
        figure('CPU per request of all three services', usPerRequest, us) +
        figure('latency p50', p50Ms, ms) +
        figure('latency p99', p99Ms, ms),
    );
  } finally {
    await Promise.all(systems.map((bench) => bench.stop()));
    await Promise.all(systems.map((bench) => bench.dropSchemas()));
    await issuer.stop();
    material.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
