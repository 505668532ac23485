import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MODES, PATHS } from './lib/report';
import type { BenchResults, ModeResult } from './lib/report';
import { SERVICES } from './lib/system';

const WORKSPACE = resolve(__dirname, '../../..');
const REPORT = join(WORKSPACE, 'docs/BENCHMARKS.md');
/** A smoke run leaves the mesh out: it needs HAProxy, which a fresh machine has not. */
const SMOKE_MODES = MODES.filter((mode) => mode !== 'mesh');

/** Timings are never asserted: the machine running this is shared and small. Only that every figure is there. */
describe('npm run bench -- --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'acme-bench-smoke-'));
  const reportModified = statSync(REPORT, { throwIfNoEntry: false })?.mtimeMs;
  let results: BenchResults;
  const of = (mode: (typeof SMOKE_MODES)[number]) => results[mode] as ModeResult;
  let printed: string;

  beforeAll(async () => {
    const run = await promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'tools/bench/src/bench.ts', '--smoke', '--out', out],
      {
        cwd: WORKSPACE,
        timeout: 230_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    printed = run.stdout;
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
  }, 240_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('drives both paths through every system, every request answered with a 2xx', () => {
    for (const mode of SMOKE_MODES) {
      for (const path of PATHS) {
        const { saturated, atRate, sequential, ...byRound } = of(mode).paths[path];
        // Every fixed-rate round is followed by a sequential one, for the round-by-round comparison.
        expect(byRound.atRateLatencyByRound).toHaveLength(results.settings.rateRounds);
        expect(byRound.sequentialLatencyByRound).toHaveLength(results.settings.rateRounds);
        for (const run of [saturated, atRate, sequential]) {
          expect(run.ok).toBeGreaterThan(0);
          expect(run.failed).toBe(0);
          expect(run.latencyMs).toEqual({
            p50: expect.any(Number),
            p90: expect.any(Number),
            p99: expect.any(Number),
            mean: expect.any(Number),
          });
        }
      }
    }
  });

  it('reaches the payment service on the write path, in every system', () => {
    for (const mode of SMOKE_MODES) expect(of(mode).paymentsCreated).toBeGreaterThan(0);
  });

  it('measures what tracing costs, with the traced system really exporting spans', () => {
    expect(results.tracing.exports).toBeGreaterThan(0);
    for (const path of PATHS) {
      expect(results.tracing[path]).toEqual({
        throughputRatio: expect.any(Number),
        addedCpuUsPerRequest: expect.any(Number),
        addedMs: { p50: expect.any(Number), p99: expect.any(Number) },
      });
    }
    expect(printed).toContain('## What tracing costs (traced against secure)');
    expect(printed).toContain('| POST /api/orders/:id/pay | 3 | traced |');
  });

  it('reports CPU per 1000 requests, started, idle and peak RSS of every service, and the start-up time', () => {
    for (const mode of SMOKE_MODES) {
      expect(of(mode).startupMs).toBeGreaterThan(0);
      expect(Object.keys(of(mode).startupCpuSeconds)).toEqual([...SERVICES]);
      for (const service of SERVICES) {
        expect(of(mode).idleRssMb[service]).toBeGreaterThan(0);
        // Idle is the lowest RSS seen from the start on; the peak, the highest.
        expect(of(mode).startedRssMb[service]).toBeGreaterThanOrEqual(of(mode).idleRssMb[service]);
        expect(of(mode).peakRssMb[service]).toBeGreaterThanOrEqual(of(mode).startedRssMb[service]);
        for (const path of PATHS) {
          expect(of(mode).paths[path].cpuSecondsPer1000[service]).toEqual(expect.any(Number));
        }
      }
      for (const path of PATHS) {
        // One figure per fixed-rate round, each a round's CPU of every process per request.
        expect(of(mode).paths[path].cpuSecondsPer1000ByRound).toEqual(
          Array(results.settings.rateRounds).fill(expect.any(Number)),
        );
        // No mesh in a smoke run: no sidecar spent anything.
        expect(of(mode).paths[path].sidecarCpuSecondsPer1000ByRound).toEqual(
          Array(results.settings.rateRounds).fill(0),
        );
      }
    }
  });

  it('compares secure with insecure per path, and measures each step of token verification', () => {
    for (const path of PATHS) {
      expect(results.comparison[path]).toEqual({
        throughputRatio: expect.any(Number),
        cpuRatio: expect.any(Number),
        addedMsPerHop: { p50: expect.any(Number), p99: expect.any(Number) },
        sequentialAddedUsPerHop: expect.any(Number),
        addedCpuUsPerHop: expect.any(Number),
      });
    }
    expect(results.verification).toEqual({
      iterations: expect.any(Number),
      firstUs: { es256: expect.any(Number), rs256: expect.any(Number) },
      repeatUs: expect.any(Number),
      jwksRefreshMs: expect.any(Number),
    });
  });

  it('measures what signing and checking an event costs', () => {
    expect(results.events).toEqual({
      signUs: expect.any(Number),
      verifyUs: expect.any(Number),
      verifyFirstUs: expect.any(Number),
    });
  });

  it('measures what a token exchange costs, cached and not', () => {
    expect(results.exchange).toEqual({ hitUs: expect.any(Number), missMs: expect.any(Number) });
    expect(results.exchange.missMs).toBeGreaterThan(0);
  });

  it('measures how cost grows with active users, connections and the orders table', () => {
    expect(results.tokenCache.map((row) => row.users)).toEqual([100, 1_000]);
    for (const row of results.tokenCache) {
      // Fewer users than the cache holds: every verification after the first is a hit.
      expect(row.hitRatio).toBe(1);
    }
    expect(results.growth.connections.map((row) => [row.connections, row.failed])).toEqual([
      [4, 0],
      [32, 0],
    ]);
    expect(results.growth.tables.map((row) => row.rows)).toEqual([1_000, 5_000]);
    for (const row of results.growth.tables) {
      expect(row.byId.throughput).toBeGreaterThan(0);
      expect(row.list.throughput).toBeGreaterThan(0);
    }
    expect(printed).toContain('## How cost grows');
  });

  it("measures the floor: mutual TLS between two bare processes, at each path's pace", () => {
    const figure = {
      plainUs: expect.any(Number),
      tlsUs: expect.any(Number),
      addedUs: expect.any(Number),
    };
    expect(results.floor).toEqual({
      runs: 1,
      cpuAtRate: {
        read: { ...figure, gapMs: 1000 / results.paths.read.rate },
        write: { ...figure, gapMs: 1000 / results.paths.write.rate },
      },
      sequentialRoundTrip: figure,
    });
    for (const { plainUs, tlsUs } of [
      results.floor.cpuAtRate.read,
      results.floor.cpuAtRate.write,
      results.floor.sequentialRoundTrip,
    ]) {
      expect(plainUs).toBeGreaterThan(0);
      expect(tlsUs).toBeGreaterThan(0);
    }
    expect(printed).toContain('## The floor: mutual TLS between two bare processes');
  });

  it('judges every target of the issue and prints the tables', () => {
    expect(results.targets.map((target) => target.name)).toHaveLength(8 + 4 + SERVICES.length);
    for (const target of results.targets) {
      expect(target).toMatchObject({
        goal: expect.any(String),
        measured: expect.any(String),
        met: expect.any(Boolean),
      });
    }
    expect(printed).toContain('## Targets');
    expect(results.mesh).toBeUndefined();
    expect(printed).toContain('No mesh comparison in this run');
    expect(printed).toContain('| GET /api/orders/:id | 2 | secure |');
    expect(printed).toContain('| POST /api/orders/:id/pay | 3 | insecure |');
  });

  it('leaves docs/BENCHMARKS.md alone: only a full run writes it', () => {
    expect(statSync(REPORT, { throwIfNoEntry: false })?.mtimeMs).toBe(reportModified);
  });
});
