/**
 * The cost of security, measured: the whole system started from production
 * builds, driven through the gateway with and without security (BENCH_INSECURE),
 * plus a micro-benchmark of token verification.
 *
 *   npm run bench               # full run: dist/bench/results.json and docs/BENCHMARKS.md
 *   npm run bench -- --smoke    # a few seconds of tiny load, to prove the harness works
 *   npm run bench -- --profile  # also a CPU profile of each service (node --cpu-prof), in dist/bench/profiles;
 *                               # then: node -r @swc-node/register tools/bench/src/profile-report.ts
 *   npm run bench -- --node-flags="--max-semi-space-size=1"  # services run with these node flags
 *   npm run bench -- --no-mesh  # without the service-mesh comparison (which needs HAProxy)
 *
 * Every secure system runs the defaults: per-service audiences, a token exchange per hop,
 * service tokens bound to the caller's certificate.
 * After the four systems, a fifth (secure) measures how cost grows: connections at the
 * gateway, and an orders table of 10k to 1M rows; the token cache is measured in-process.
 *
 * Needs PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test);
 * each system gets fresh schemas, dropped at the end. A full run also needs `haproxy`
 * (Debian: apt-get install haproxy), the sidecar of the mesh it compares with.
 */
import { EVENT_ROUTES } from '@acme/contracts';
import { OtlpReceiver } from '@acme/telemetry/testing';
import { spawn } from 'node:child_process';
import { format, resolveConfig } from 'prettier';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { measureGrowth } from './lib/growth';
import { drive } from './lib/load';
import type { LoadOptions, LoadResult, RequestSpec } from './lib/load';
import { processStats } from './lib/process-stats';
import {
  compare,
  compareWithMesh,
  evaluateTargets,
  MODES,
  PATHS,
  renderMarkdown,
  tracingCost,
} from './lib/report';
import { MeshSidecars } from './lib/mesh-sidecars';
import { measureTlsFloor } from './lib/tls-pair';
import { PROFILE_WINDOWS } from './lib/profile-diff';
import type { ProfileWindow } from './lib/profile-diff';
import type {
  BenchResults,
  Mode,
  ModeResult,
  PathInfo,
  PathModeResult,
  PathName,
} from './lib/report';
import {
  AUDIENCE,
  benchUserToken,
  BenchSystem,
  CLIENT_SECRETS,
  DATABASE_URL,
  imageAllocatorEnv,
  pathRequests,
  SERVICES,
  startBenchIssuer,
  tlsFilesOf,
  tlsOf,
  TRUST_DOMAIN,
  writeMaterial,
} from './lib/system';
import type { ServiceName } from './lib/system';
import {
  benchDpopProof,
  benchExchange,
  benchSignedEvent,
  benchTokenCacheGrowth,
  benchVerification,
} from './lib/verification';

const WORKSPACE = resolve(__dirname, '../../..');
const REPORT = join(WORKSPACE, 'docs/BENCHMARKS.md');
/** Everything after this line of docs/BENCHMARKS.md is written by hand and kept by each run. */
const ANALYSIS_MARKER = '<!-- Written by hand below this line; npm run bench keeps it. -->';

const FULL = {
  connections: 16,
  durationS: 8,
  warmupS: 2,
  rounds: 2,
  // CPU per request: many short rounds at the fixed rate, compared round by round.
  rateRounds: 6,
  rateDurationS: 4,
  rateConnections: 8,
  verifyIterations: 2_000,
  writeOrders: 60_000,
  // Past the 100 s after its last full GC at which V8 13.1+ (node 24) shrinks an idle heap:
  // its memory reducer takes a process that allocates nothing on the C++ heap for one that
  // allocates fast, and waits for that watchdog (node 20 shrinks within about 35 s).
  idleS: 120,
  activeUsers: [1_000, 10_000, 100_000],
  growth: { connections: [16, 256, 1_024], tableRows: [10_000, 1_000_000], durationS: 5 },
  floor: { runs: 5, durationS: 3, minMessages: 200, sequentialMessages: 3_000 },
};
const SMOKE = {
  connections: 4,
  // Long enough for one answer per round on a machine busy with CI's other tests: at 1 s a
  // round of writes once ended before its first answer.
  durationS: 3,
  warmupS: 0.5,
  rounds: 1,
  rateRounds: 1,
  rateDurationS: 3,
  rateConnections: 2,
  verifyIterations: 50,
  writeOrders: 3_000,
  idleS: 2,
  activeUsers: [100, 1_000],
  growth: { connections: [4, 32], tableRows: [1_000, 5_000], durationS: 1 },
  floor: { runs: 1, durationS: 0.2, minMessages: 10, sequentialMessages: 50 },
};
type Settings = typeof FULL;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The clock of V8's CPU profiles (`node --cpu-prof`), in microseconds. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const outIndex = process.argv.indexOf('--out');
  const outDir = resolve(WORKSPACE, outIndex > 0 ? process.argv[outIndex + 1] : 'dist/bench');
  const settings = smoke ? SMOKE : FULL;
  const runId = `${process.pid}_${Date.now()}`;
  const logDir = join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const profileDir = process.argv.includes('--profile') ? join(outDir, 'profiles') : undefined;
  const nodeFlags = process.argv
    .find((arg) => arg.startsWith('--node-flags='))
    ?.slice('--node-flags='.length)
    .split(/\s+/)
    .filter(Boolean);
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: loadavg(),
    bareNodeRssMb: await bareNodeRssMb(),
  };

  const material = await writeMaterial();
  const issuer = await startBenchIssuer(material);
  const receiver = await OtlpReceiver.start();
  const system = (mode: Mode, run = runId, profiled = true) =>
    new BenchSystem({
      mode,
      otlpEndpoint: receiver.endpoint,
      workspace: WORKSPACE,
      material,
      logDir,
      issuer: issuer.issuer,
      databaseUrl: DATABASE_URL,
      runId: run,
      profileDir: profiled ? profileDir : undefined,
      nodeFlags,
    });
  const withMesh = !smoke && !process.argv.includes('--no-mesh');
  if (withMesh) MeshSidecars.assertInstalled();
  const modes = MODES.filter((mode) => mode !== 'mesh' || withMesh);
  const systems = perMode(modes, system);
  // A secure system of its own, whose orders table starts empty and grows to a million rows.
  // Not profiled: its profiles would replace the secure system's, of the same names.
  const growthSystem = system('secure', `${runId}_growth`, false);
  try {
    log('token verification micro-benchmark');
    const verification = await benchVerification(issuer, AUDIENCE, settings.verifyIterations);
    log('token exchange micro-benchmark');
    const exchange = await benchExchange(
      issuer,
      {
        clientId: 'gateway',
        clientSecret: CLIENT_SECRETS.gateway,
        tls: tlsOf(material, 'gateway'),
      },
      'urn:acme:order',
      settings.verifyIterations,
    );
    log('DPoP proof micro-benchmark');
    const dpop = await benchDpopProof(settings.verifyIterations);
    log('signed event micro-benchmark');
    const events = await benchSignedEvent(
      tlsOf(material, EVENT_ROUTES.paymentCompleted.producer),
      TRUST_DOMAIN,
      settings.verifyIterations,
    );
    log(`token cache under ${settings.activeUsers.join(', ')} active users`);
    const tokenCache = await benchTokenCacheGrowth(issuer, AUDIENCE, settings.activeUsers);
    const token = benchUserToken(issuer);
    // The fixed-rate rounds of each mode and path, for `profile-report.ts` to cut the profiles by.
    const profileWindows: Record<string, ProfileWindow[]> = {};
    const { results: measured, paths } = await measureSystems(
      modes,
      systems,
      token,
      settings,
      profileWindows,
    );
    const [secure, insecure, traced] = [measured.secure, measured.insecure, measured.traced];
    await Promise.all(modes.map((mode) => systems[mode].stop()));
    // Alone on the machine, at the paces the systems were measured at.
    log('the floor: mutual TLS between two bare processes');
    const floor = await measureTlsFloor(
      { read: paths.read.rate, write: paths.write.rate },
      { server: tlsFilesOf(material, 'order'), client: tlsFilesOf(material, 'gateway') },
      settings.floor,
    );
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      writeFileSync(join(profileDir, PROFILE_WINDOWS), JSON.stringify(profileWindows, null, 2));
    }
    log('starting a secure system for growth');
    await growthSystem.start();
    const growth = await measureGrowth(
      growthSystem,
      token,
      { ...settings.growth, saturationConnections: settings.connections },
      log,
    );
    const partial = {
      kind: smoke ? ('smoke' as const) : ('full' as const),
      machine,
      settings: {
        connections: settings.connections,
        durationS: settings.durationS,
        rounds: settings.rounds,
        rateRounds: settings.rateRounds,
        rateDurationS: settings.rateDurationS,
        rateConnections: settings.rateConnections,
        logLevel: 'info',
        database: 'PostgreSQL',
        nodeFlags: nodeFlags ?? [],
        allocatorEnv: imageAllocatorEnv(WORKSPACE),
        idleS: settings.idleS,
      },
      paths,
      secure,
      insecure,
      traced,
      ...(measured.mesh
        ? {
            mesh: measured.mesh,
            meshComparison: compareWithMesh(paths, secure, insecure, measured.mesh),
          }
        : {}),
      comparison: compare(paths, secure, insecure),
      tracing: { ...tracingCost(secure, traced), exports: receiver.protobufExports },
      verification,
      exchange,
      dpop,
      events,
      tokenCache,
      growth,
      floor,
    };
    const results: BenchResults = { ...partial, targets: evaluateTargets(partial) };
    const markdown = renderMarkdown(results);
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    if (!smoke) writeFileSync(REPORT, await withKeptAnalysis(markdown));
    process.stdout.write(`\n${markdown}\n`);
    log(
      `results: ${join(outDir, 'results.json')}${smoke ? '' : `, ${REPORT}`}; service logs: ${logDir}${profileDir ? `; profiles: ${profileDir}` : ''}`,
    );
  } finally {
    await Promise.all([...modes.map((mode) => systems[mode].stop()), growthSystem.stop()]);
    await Promise.all([
      ...modes.map((mode) => systems[mode].dropSchemas()),
      growthSystem.dropSchemas(),
    ]);
    await issuer.stop();
    await receiver.close();
    material.remove();
  }
}

async function measureSystems(
  modes: Mode[],
  systems: Record<Mode, BenchSystem>,
  token: string,
  settings: Settings,
  profileWindows: Record<string, ProfileWindow[]>,
): Promise<{ results: Record<Mode, ModeResult>; paths: Record<PathName, PathInfo> }> {
  const startupMs = {} as Record<Mode, number>;
  const startupCpuSeconds = {} as Record<Mode, Record<ServiceName, number>>;
  const requests = {} as Record<Mode, Record<PathName, RequestSpec>>;
  const exhausted = perMode(modes, () => false);
  for (const mode of modes) {
    log(`starting the ${mode} system`);
    startupMs[mode] = await systems[mode].start();
    startupCpuSeconds[mode] = perService((s) => processStats(systems[mode].pid(s)).cpuSeconds);
    const [readIds, writeIds] = [
      await systems[mode].seedOrders(100),
      await systems[mode].seedOrders(settings.writeOrders),
    ];
    requests[mode] = {
      read: pathRequests('read', token, readIds),
      write: pathRequests('write', token, writeIds, () => (exhausted[mode] = true)),
    };
  }
  await sleep(1_000);
  const rss = () =>
    perMode(modes, (mode) => perService((s) => processStats(systems[mode].pid(s)).rssMb));
  const startedRssMb = rss();
  // V8 shrinks an idle process's heap (its memory reducer) some tens of seconds after the
  // last garbage collection: idle RSS is the lowest seen while every system sits idle.
  log(`idle: sampling RSS for ${settings.idleS} s`);
  const idleRssMb = rss();
  for (let second = 1; second < settings.idleS; second++) {
    await sleep(1_000);
    const now = rss();
    for (const mode of modes) {
      for (const s of SERVICES) idleRssMb[mode][s] = Math.min(idleRssMb[mode][s], now[mode][s]);
    }
  }
  const cpuSeconds = (mode: Mode) => ({
    services: perService((s) => processStats(systems[mode].pid(s)).cpuSeconds),
    sidecars: systems[mode]
      .sidecarPids()
      .reduce((sum, pid) => sum + processStats(pid).cpuSeconds, 0),
  });

  const results = perMode(modes, () => ({}) as Record<PathName, PathModeResult>);
  const paths = {} as Record<PathName, PathInfo>;
  for (const path of PATHS) {
    const run = (mode: Mode, options: LoadOptions) =>
      drive(systems[mode].gatewayUrl, requests[mode][path], options);
    const saturation = { connections: settings.connections, durationS: settings.durationS };
    for (const mode of modes) await run(mode, { ...saturation, durationS: settings.warmupS });

    // Rounds alternate between the systems, so that a slow spell of the machine hits all.
    const saturated = perMode(modes, (): LoadResult[] => []);
    for (let round = 0; round < settings.rounds; round++) {
      for (const mode of modes) {
        log(`${path}, ${mode}: saturation, round ${round + 1}`);
        saturated[mode].push(await run(mode, saturation));
      }
    }
    const best = (mode: Mode) =>
      saturated[mode].reduce((a, b) => (b.throughput > a.throughput ? b : a));
    const rate = Math.max(1, Math.round(best('secure').throughput / 2));
    const atRate = perMode(modes, (): LoadResult[] => []);
    const sequential = perMode(modes, (): LoadResult[] => []);
    // CPU per request is read at the fixed rate, the same offered load for every system:
    // at saturation each system queues and batches differently, and the figure moved by
    // more than half between runs of the same code.
    const cpu = perMode(modes, () => ({ services: perService(() => 0), sidecars: 0 }));
    const cpuByRound = perMode(modes, (): number[] => []);
    const sidecarCpuByRound = perMode(modes, (): number[] => []);
    for (let round = 0; round < settings.rateRounds; round++) {
      for (const mode of modes) {
        log(`${path}, ${mode}: ${rate} req/s, round ${round + 1}`);
        const before = cpuSeconds(mode);
        const startUs = monotonicUs();
        const result = await run(mode, {
          connections: settings.rateConnections,
          durationS: settings.rateDurationS,
          rate,
        });
        profileWindows[`${mode}.${path}`] = [
          ...(profileWindows[`${mode}.${path}`] ?? []),
          { startUs, endUs: monotonicUs(), requests: result.ok },
        ];
        atRate[mode].push(result);
        const after = cpuSeconds(mode);
        const sidecarSeconds = after.sidecars - before.sidecars;
        let roundSeconds = sidecarSeconds;
        for (const s of SERVICES) {
          cpu[mode].services[s] += after.services[s] - before.services[s];
          roundSeconds += after.services[s] - before.services[s];
        }
        cpu[mode].sidecars += sidecarSeconds;
        const per1000 = (seconds: number) => (seconds / Math.max(1, result.ok)) * 1000;
        cpuByRound[mode].push(per1000(roundSeconds));
        sidecarCpuByRound[mode].push(per1000(sidecarSeconds));
        // As many as the fixed-rate rounds, each right after one: what security adds to the
        // latency of a request alone is compared round by round too.
        log(`${path}, ${mode}: sequential, round ${round + 1}`);
        sequential[mode].push(
          await run(mode, { connections: 1, durationS: settings.rateDurationS }),
        );
      }
    }
    const lowestMedian = (runs: LoadResult[]) =>
      runs.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a));
    for (const mode of modes) {
      const all = [...saturated[mode], ...atRate[mode], ...sequential[mode]];
      const failed = all.reduce((sum, r) => sum + r.failed, 0);
      if (failed > 0) {
        throw new Error(
          `${path}, ${mode}: ${failed} requests failed: ${JSON.stringify(all.map((r) => r.statusCodes))}`,
        );
      }
      const ok = atRate[mode].reduce((sum, r) => sum + r.ok, 0);
      results[mode][path] = {
        saturated: best(mode),
        atRate: lowestMedian(atRate[mode]),
        atRateLatencyByRound: atRate[mode].map((r) => r.latencyMs),
        sequential: lowestMedian(sequential[mode]),
        sequentialLatencyByRound: sequential[mode].map((r) => r.latencyMs),
        cpuSecondsPer1000: perService((s) => (cpu[mode].services[s] / ok) * 1000),
        sidecarCpuSecondsPer1000: (cpu[mode].sidecars / ok) * 1000,
        cpuSecondsPer1000ByRound: cpuByRound[mode],
        sidecarCpuSecondsPer1000ByRound: sidecarCpuByRound[mode],
      };
    }
    paths[path] = {
      route: path === 'read' ? 'GET /api/orders/:id' : 'POST /api/orders/:id/pay',
      hops: path === 'read' ? 2 : 3,
      rate,
    };
  }
  for (const mode of modes) {
    if (exhausted[mode]) {
      throw new Error(`the ${mode} write path ran out of fresh orders: raise writeOrders`);
    }
  }

  const modeResults = {} as Record<Mode, ModeResult>;
  for (const mode of modes) {
    modeResults[mode] = {
      startupMs: startupMs[mode],
      startupCpuSeconds: startupCpuSeconds[mode],
      startedRssMb: startedRssMb[mode],
      idleRssMb: idleRssMb[mode],
      // Linux updates VmHWM lazily, so it can read below an RSS seen earlier: the peak is
      // at least what was measured.
      peakRssMb: perService((s) =>
        Math.max(processStats(systems[mode].pid(s)).peakRssMb, startedRssMb[mode][s]),
      ),
      paths: results[mode],
      paymentsCreated: await systems[mode].countPayments(),
    };
  }
  return { results: modeResults, paths };
}

/** One value per mode of the run; typed for every mode, filled for those of the run. */
function perMode<T>(modes: Mode[], value: (mode: Mode) => T): Record<Mode, T> {
  return Object.fromEntries(modes.map((mode) => [mode, value(mode)])) as Record<Mode, T>;
}

/** RSS of a node process that loads nothing, once settled. */
async function bareNodeRssMb(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
    stdio: 'ignore',
  });
  await sleep(500);
  const { rssMb } = processStats(child.pid as number);
  child.kill();
  return rssMb;
}

function perService(value: (service: ServiceName) => number): Record<ServiceName, number> {
  return Object.fromEntries(SERVICES.map((service) => [service, value(service)])) as Record<
    ServiceName,
    number
  >;
}

/**
 * The new tables, followed by the hand-written analysis of the current report,
 * if any; formatted by Prettier, as `npm test` checks every file.
 */
async function withKeptAnalysis(markdown: string): Promise<string> {
  const current = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '';
  const kept = current.includes(ANALYSIS_MARKER)
    ? current.slice(current.indexOf(ANALYSIS_MARKER))
    : `${ANALYSIS_MARKER}\n`;
  return format(`${markdown}\n${kept}`, { ...(await resolveConfig(REPORT)), filepath: REPORT });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
