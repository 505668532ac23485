import type { GrowthResult, TableGrowth } from './growth';
import type { Latency, LoadResult } from './load';
import type { ServiceName } from './system';
import { SERVICES } from './system';
import type { TlsFloor } from './tls-pair';
import type {
  DpopProofResult,
  ExchangeResult,
  SignedEventResult,
  TokenCacheGrowth,
  VerificationResult,
} from './verification';

export const PATHS = ['read', 'write'] as const;
export type PathName = (typeof PATHS)[number];
/**
 * `traced` is `secure` with OpenTelemetry on, every request sampled, exporting
 * OTLP/HTTP protobuf; `mesh` is the chain with `TRANSPORT_SECURITY=mesh`
 * behind a mutual-TLS sidecar (HAProxy) per service, tokens still verified at
 * every hop: what a service mesh costs instead of in-process mutual TLS.
 */
export const MODES = ['secure', 'insecure', 'traced', 'mesh'] as const;
export type Mode = (typeof MODES)[number];

export interface PathModeResult {
  /** The round with the highest throughput. */
  saturated: LoadResult;
  /** The round with the lowest median, at the path's fixed rate. */
  atRate: LoadResult;
  /** Every fixed-rate round's latency, in round order, to compare two modes round by round. */
  atRateLatencyByRound: Latency[];
  /** One connection, one request at a time: latency without queueing. The round with the lowest median. */
  sequential: LoadResult;
  /** Every sequential round's latency, in round order: one after each fixed-rate round. */
  sequentialLatencyByRound: Latency[];
  /** Over every round at the fixed rate: the same offered load for every system. */
  cpuSecondsPer1000: Record<ServiceName, number>;
  /** The sidecars' CPU over the same rounds (0 without a mesh). */
  sidecarCpuSecondsPer1000: number;
  /**
   * Each fixed-rate round's CPU of every process, sidecars included, in round order: the
   * modes' rounds of one number ran back to back, so two modes are compared round by round.
   */
  cpuSecondsPer1000ByRound: number[];
  /** The sidecars' share of each of those rounds (0 without a mesh). */
  sidecarCpuSecondsPer1000ByRound: number[];
}

export interface ModeResult {
  /** Spawning all three processes until the gateway reports ready. */
  startupMs: number;
  /** CPU time each process used to get there: the start-up cost, whatever else the machine runs. */
  startupCpuSeconds: Record<ServiceName, number>;
  /** A second after the system started. */
  startedRssMb: Record<ServiceName, number>;
  /** The lowest RSS over the idle period that follows: once V8 has shrunk the heap of an idle process. */
  idleRssMb: Record<ServiceName, number>;
  peakRssMb: Record<ServiceName, number>;
  paths: Record<PathName, PathModeResult>;
  /** Payments recorded by the payment service: the write path reached it. */
  paymentsCreated: number;
}

export interface PathInfo {
  route: string;
  /** Services that handle the request, each verifying the token; every call between two of them is mutual TLS. */
  hops: number;
  /** Requests per second of the latency runs: half of the secure saturated throughput. */
  rate: number;
}

export interface Comparison {
  /** Secure throughput / insecure throughput at saturation. */
  throughputRatio: number;
  /**
   * Insecure / secure CPU time per request, all three services: the throughput
   * ratio of a CPU-bound system, steadier than throughput on a shared machine.
   */
  cpuRatio: number;
  /** (secure - insecure) latency at the fixed rate, divided by the hops: the median of the rounds' differences. */
  addedMsPerHop: { p50: number; p99: number };
  /** (secure - insecure) median latency of the sequential runs, divided by the hops, in microseconds: the median of the rounds' differences. */
  sequentialAddedUsPerHop: number;
  /** (secure - insecure) CPU per request, all processes, divided by the hops, in microseconds. */
  addedCpuUsPerHop: number;
}

/** In-process security against the mesh, each over the insecure system, per path. */
export interface MeshComparison {
  /** Secure (in-process) throughput / mesh throughput at saturation: above 1, in-process wins. */
  throughputRatio: number;
  sequentialAddedUsPerHop: { inProcess: number; mesh: number };
  /** The mesh's includes its sidecars. */
  addedCpuUsPerHop: { inProcess: number; mesh: number };
  /**
   * In-process security's added CPU per hop, in two parts. The mesh's services verify every
   * token, run every guard and keep the call context as the secure system's do, and leave
   * TLS to their sidecars: `tls` is what the secure system spends over the mesh's services,
   * `tokens` what those spend over the insecure system. Each is the median of paired rounds,
   * so the two need not add up to the whole.
   */
  inProcessCpuUsPerHop: { tls: number; tokens: number };
}

/** What tracing adds to the secure system, per path. */
export interface TracingCost {
  /** Traced throughput / secure throughput at saturation. */
  throughputRatio: number;
  /** (traced - secure) CPU per request, all three services, in microseconds. */
  addedCpuUsPerRequest: number;
  /** (traced - secure) latency at the fixed rate, milliseconds. */
  addedMs: { p50: number; p99: number };
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
  /** How far off a missed target is, in the target's unit. */
  missedBy?: string;
  /** What mutual TLS alone costs the bare pair of processes in the same terms (the floor). */
  tlsAlone?: string;
}

export interface BenchResults {
  kind: 'full' | 'smoke';
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    platform: string;
    date: string;
    loadAverage: number[];
    bareNodeRssMb: number;
  };
  settings: {
    connections: number;
    durationS: number;
    rounds: number;
    /** Rounds at the fixed rate, and their length: CPU per request is compared round by round. */
    rateRounds: number;
    rateDurationS: number;
    rateConnections: number;
    logLevel: string;
    database: string;
    /** Flags each service's `node` ran with, beyond the defaults. */
    nodeFlags: string[];
    /** The C library's allocator settings each service ran with: the images' (`MALLOC_*`). */
    allocatorEnv: Record<string, string>;
    /** Seconds the systems sat idle after starting, RSS sampled every second. */
    idleS: number;
  };
  paths: Record<PathName, PathInfo>;
  secure: ModeResult;
  insecure: ModeResult;
  traced: ModeResult;
  /** Absent from a run without the mesh comparison (a smoke run, or `--no-mesh`). */
  mesh?: ModeResult;
  comparison: Record<PathName, Comparison>;
  meshComparison?: Record<PathName, MeshComparison>;
  tracing: Record<PathName, TracingCost> & { exports: number };
  verification: VerificationResult;
  exchange: ExchangeResult;
  dpop: DpopProofResult;
  events: SignedEventResult;
  tokenCache: TokenCacheGrowth[];
  growth: GrowthResult;
  /** What mutual TLS alone costs two bare processes at the paths' paces: the least it can cost a hop. */
  floor: TlsFloor;
  targets: Target[];
}

/** Every process of the system: the services, and the sidecars of a mesh. */
const cpuSecondsPer1000 = (result: PathModeResult) =>
  Object.values(result.cpuSecondsPer1000).reduce((sum, seconds) => sum + seconds, 0) +
  result.sidecarCpuSecondsPer1000;

/** Secure against insecure, per path. */
export function compare(
  paths: Record<PathName, PathInfo>,
  secure: ModeResult,
  insecure: ModeResult,
): Record<PathName, Comparison> {
  const of = (path: PathName): Comparison => {
    const [s, i] = [secure.paths[path], insecure.paths[path]];
    const perHop = (key: 'p50' | 'p99') => addedAtRateMs(s, i, key) / paths[path].hops;
    return {
      throughputRatio: s.saturated.throughput / i.saturated.throughput,
      cpuRatio: cpuSecondsPer1000(i) / cpuSecondsPer1000(s),
      addedMsPerHop: { p50: perHop('p50'), p99: perHop('p99') },
      sequentialAddedUsPerHop: sequentialAddedUsPerHop(paths[path], s, i),
      addedCpuUsPerHop: addedCpuUsPerHop(paths[path], s, i),
    };
  };
  return { read: of('read'), write: of('write') };
}

/** Over insecure, per hop, in microseconds: the added median latency of the sequential runs. */
function sequentialAddedUsPerHop(
  path: PathInfo,
  secured: PathModeResult,
  insecure: PathModeResult,
): number {
  const p50s = (result: PathModeResult) => result.sequentialLatencyByRound.map((l) => l.p50);
  return (medianRoundDifference(p50s(secured), p50s(insecure)) * 1000) / path.hops;
}

/**
 * The latency `more` adds over `less` at the fixed rate, in milliseconds, round by round as
 * CPU is: a round's p99 rests on a few dozen answers, and one slow spell of the machine moved
 * the difference of the two modes' best rounds by more than 100 ms.
 */
function addedAtRateMs(more: PathModeResult, less: PathModeResult, key: 'p50' | 'p99'): number {
  const of = (result: PathModeResult) => result.atRateLatencyByRound.map((l) => l[key]);
  return medianRoundDifference(of(more), of(less));
}

/** Over insecure, per hop, in microseconds: the added CPU per request of every process. */
function addedCpuUsPerHop(
  path: PathInfo,
  secured: PathModeResult,
  insecure: PathModeResult,
): number {
  return addedCpuUsPerRequest(secured, insecure) / path.hops;
}

/**
 * The CPU per request `more` adds over `less`, in microseconds: the median of the two modes'
 * differences round by round. A round can hold a full garbage collection, a token renewal or
 * a slow spell of the machine, moving its figure by hundreds of microseconds; pairing rounds
 * run back to back and taking the median leaves such a round out.
 */
function addedCpuUsPerRequest(more: PathModeResult, less: PathModeResult): number {
  // Seconds per 1000 requests is milliseconds per request: x 1000 for microseconds.
  return medianRoundDifference(more.cpuSecondsPer1000ByRound, less.cpuSecondsPer1000ByRound) * 1000;
}

/** What `more` adds over `less`, given a figure per round of each: the median of their differences, round by round. */
export function medianRoundDifference(more: readonly number[], less: readonly number[]): number {
  if (more.length === 0 || more.length !== less.length) {
    throw new Error(`cannot pair ${more.length} rounds with ${less.length}`);
  }
  return median(more.map((value, round) => value - less[round]));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** In-process (secure) against the mesh, both over insecure. */
export function compareWithMesh(
  paths: Record<PathName, PathInfo>,
  secure: ModeResult,
  insecure: ModeResult,
  mesh: ModeResult,
): Record<PathName, MeshComparison> {
  const of = (path: PathName): MeshComparison => {
    const [s, i, m] = [secure.paths[path], insecure.paths[path], mesh.paths[path]];
    const { hops } = paths[path];
    return {
      throughputRatio: s.saturated.throughput / m.saturated.throughput,
      sequentialAddedUsPerHop: {
        inProcess: sequentialAddedUsPerHop(paths[path], s, i),
        mesh: sequentialAddedUsPerHop(paths[path], m, i),
      },
      addedCpuUsPerHop: {
        inProcess: addedCpuUsPerHop(paths[path], s, i),
        mesh: addedCpuUsPerHop(paths[path], m, i),
      },
      inProcessCpuUsPerHop: {
        tls: (medianRoundDifference(s.cpuSecondsPer1000ByRound, servicesByRound(m)) * 1000) / hops,
        tokens:
          (medianRoundDifference(servicesByRound(m), i.cpuSecondsPer1000ByRound) * 1000) / hops,
      },
    };
  };
  return { read: of('read'), write: of('write') };
}

/** Each fixed-rate round's CPU per 1000 requests of the services alone, without sidecars. */
function servicesByRound(result: PathModeResult): number[] {
  const sidecars = result.sidecarCpuSecondsPer1000ByRound;
  if (sidecars.length !== result.cpuSecondsPer1000ByRound.length) {
    throw new Error(
      `${sidecars.length} rounds of sidecar CPU for ${result.cpuSecondsPer1000ByRound.length} rounds`,
    );
  }
  return result.cpuSecondsPer1000ByRound.map((seconds, round) => seconds - sidecars[round]);
}

/** Traced against secure, per path. */
export function tracingCost(secure: ModeResult, traced: ModeResult): Record<PathName, TracingCost> {
  const of = (path: PathName): TracingCost => {
    const [s, t] = [secure.paths[path], traced.paths[path]];
    return {
      throughputRatio: t.saturated.throughput / s.saturated.throughput,
      addedCpuUsPerRequest: addedCpuUsPerRequest(t, s),
      addedMs: { p50: addedAtRateMs(t, s, 'p50'), p99: addedAtRateMs(t, s, 'p99') },
    };
  };
  return { read: of('read'), write: of('write') };
}

/** The issue's targets, each with its measured value. */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const atMost = (
    name: string,
    value: number,
    limit: number,
    unit: string,
    digits: number,
    tlsAloneUs?: number,
  ) =>
    targets.push({
      name,
      goal: `<= ${limit} ${unit}`,
      measured: `${value.toFixed(digits)} ${unit}`,
      met: value <= limit,
      ...(value > limit ? { missedBy: `${(value - limit).toFixed(digits)} ${unit}` } : {}),
      ...(tlsAloneUs === undefined ? {} : { tlsAlone: `${tlsAloneUs.toFixed(0)} us` }),
    });
  const atLeast = (name: string, value: number, limit: number, digits: number) =>
    targets.push({
      name,
      goal: `>= ${limit.toFixed(digits)}`,
      measured: value.toFixed(digits),
      met: value >= limit,
      ...(value < limit ? { missedBy: (limit - value).toFixed(digits) } : {}),
    });
  const { floor } = results;
  for (const path of PATHS) {
    const c = results.comparison[path];
    atMost(
      `${path}: CPU security adds per hop`,
      c.addedCpuUsPerHop,
      40,
      'us',
      0,
      floor.cpuAtRate[path].addedUs,
    );
    atLeast(`${path}: secure / insecure throughput`, c.throughputRatio, 0.9, 2);
    atMost(
      `${path}: sequential added p50 per hop`,
      c.sequentialAddedUsPerHop,
      50,
      'us',
      0,
      floor.sequentialRoundTrip.addedUs,
    );
    atMost(
      `${path}: added p99 latency per hop at the fixed rate`,
      c.addedMsPerHop.p99,
      0.3,
      'ms',
      2,
    );
    const mesh = results.meshComparison?.[path];
    if (mesh) {
      // Above 1: in-process security serves more than the mesh does.
      atLeast(`${path}: in-process / mesh throughput`, mesh.throughputRatio, 1, 2);
      atMost(
        `${path}: sequential added p50 per hop, in-process (goal: below the mesh's)`,
        mesh.sequentialAddedUsPerHop.inProcess,
        Math.round(mesh.sequentialAddedUsPerHop.mesh),
        'us',
        0,
      );
    }
  }
  atMost('repeat verification of a seen token', results.verification.repeatUs, 5, 'us', 2);
  const tables = results.growth.tables;
  if (tables.length > 1) {
    const [smallest, largest] = [tables[0], tables[tables.length - 1]];
    const flat = (name: string, read: (table: TableGrowth) => number) =>
      atMost(
        `${name}: sequential p50 at ${rowsLabel(largest.rows)} rows / at ${rowsLabel(smallest.rows)}`,
        read(largest) / read(smallest),
        1.25,
        'x',
        2,
      );
    flat('read by id', (table) => table.byId.sequentialP50Ms);
    flat('list', (table) => table.list.sequentialP50Ms);
  }
  atMost('whole system up (secure)', results.secure.startupMs / 1000, 5, 's', 2);
  for (const service of SERVICES) {
    atMost(`idle RSS of ${service} (secure)`, results.secure.idleRssMb[service], 90, 'MB', 1);
  }
  return targets;
}

const rowsLabel = (rows: number) =>
  rows >= 1_000_000 ? `${rows / 1_000_000}M` : rows >= 1_000 ? `${rows / 1_000}k` : String(rows);
const n = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const table = (header: string[], rows: string[][]) =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

/** The tables of docs/BENCHMARKS.md. */
export function renderMarkdown(results: BenchResults): string {
  const { machine, settings } = results;
  const allocator = Object.entries(settings.allocatorEnv).map(
    ([name, value]) => `${name}=${value}`,
  );
  const modes = MODES.filter((mode) => results[mode] !== undefined);
  const of = (mode: Mode) => results[mode] as ModeResult;
  const load = (result: LoadResult) =>
    `${n(result.latencyMs.p50, 2)} / ${n(result.latencyMs.p90, 2)} / ${n(result.latencyMs.p99, 2)}`;
  return [
    `# Benchmarks${results.kind === 'smoke' ? ' (smoke run: tiny load, numbers meaningless)' : ''}`,
    '',
    `Measured by \`npm run bench\` (tools/bench) on ${machine.date.slice(0, 10)}: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, ${machine.platform}; ` +
      `load average ${machine.loadAverage.map((l) => l.toFixed(1)).join(' ')} when it started.`,
    `Production builds from \`dist/\`, ${settings.database}, \`LOG_LEVEL=${settings.logLevel}\`` +
      `${settings.nodeFlags.length ? `, services run with \`node ${settings.nodeFlags.join(' ')}\`` : ''}` +
      `${allocator.length ? ` and the images' \`${allocator.join(' ')}\`` : ''}; autocannon in the same machine. ` +
      `Saturation: ${settings.connections} connections, best of ${settings.rounds} × ${settings.durationS} s; ` +
      `latency: ${settings.rateConnections} connections at half of the secure saturated throughput, ${settings.rateRounds} × ${settings.rateDurationS} s, the round with the lowest median; ` +
      'CPU per request over those fixed-rate rounds, the same offered load for every system; what one system adds over another, ' +
      'the median of their differences round by round (the systems take turns, round after round). ' +
      '*Insecure* is the same system with `BENCH_INSECURE` (plaintext TCP, no token verification, no guards); ' +
      '*traced* is the secure system with OpenTelemetry on, every request sampled, exporting OTLP/HTTP protobuf to a receiver in the bench process; ' +
      '*mesh* is the system with `TRANSPORT_SECURITY=mesh` (tokens verified at every hop, no TLS in the process) behind one HAProxy sidecar per service doing mutual TLS 1.3, one thread each. ' +
      `Sequential: one connection, one request at a time, for the latency without queueing, ${settings.rateRounds} × ${settings.rateDurationS} s, one after each fixed-rate round, the round with the lowest median.`,
    '',
    '## Targets',
    '',
    table(
      ['target', 'goal', 'measured', 'met', 'mutual TLS alone, two bare processes'],
      results.targets.map((t) => [
        t.name,
        t.goal,
        t.measured,
        t.met ? 'yes' : `**no**, by ${t.missedBy ?? '?'}`,
        t.tlsAlone ?? '',
      ]),
    ),
    '',
    ...floorSection(results),
    '## Throughput and latency',
    '',
    table(
      [
        'path',
        'hops',
        'mode',
        'saturated req/s',
        'fixed rate req/s',
        'p50 / p90 / p99 ms',
        'sequential p50 ms',
      ],
      PATHS.flatMap((path) =>
        modes.map((mode) => {
          const result = of(mode).paths[path];
          return [
            `${results.paths[path].route}`,
            String(results.paths[path].hops),
            mode,
            n(result.saturated.throughput),
            n(results.paths[path].rate),
            load(result.atRate),
            n(result.sequential.latencyMs.p50, 3),
          ];
        }),
      ),
    ),
    '',
    table(
      [
        'path',
        'secure / insecure throughput',
        'insecure / secure CPU per request',
        'added CPU per hop us',
        'sequential added p50 per hop us',
        'added p50 / p99 per hop at the fixed rate ms',
      ],
      PATHS.map((path) => {
        const c = results.comparison[path];
        return [
          results.paths[path].route,
          n(c.throughputRatio, 2),
          n(c.cpuRatio, 2),
          n(c.addedCpuUsPerHop, 0),
          n(c.sequentialAddedUsPerHop, 0),
          `${n(c.addedMsPerHop.p50, 3)} / ${n(c.addedMsPerHop.p99, 3)}`,
        ];
      }),
    ),
    '',
    ...meshSection(results),
    '## What tracing costs (traced against secure)',
    '',
    table(
      ['path', 'traced / secure throughput', 'added CPU per request us', 'added p50 / p99 ms'],
      PATHS.map((path) => {
        const t = results.tracing[path];
        return [
          results.paths[path].route,
          n(t.throughputRatio, 2),
          n(t.addedCpuUsPerRequest, 0),
          `${n(t.addedMs.p50, 3)} / ${n(t.addedMs.p99, 3)}`,
        ];
      }),
    ),
    '',
    `The receiver got ${results.tracing.exports} OTLP exports. Tracing off (the default) costs one branch per span site.`,
    '',
    '## CPU seconds per 1000 requests (at the fixed rate)',
    '',
    table(
      ['path', 'mode', ...SERVICES, 'sidecars'],
      PATHS.flatMap((path) =>
        modes.map((mode) => [
          results.paths[path].route,
          mode,
          ...SERVICES.map((s) => n(of(mode).paths[path].cpuSecondsPer1000[s], 3)),
          n(of(mode).paths[path].sidecarCpuSecondsPer1000, 3),
        ]),
      ),
    ),
    '',
    '## Start-up and memory',
    '',
    table(
      [
        'mode',
        'whole system up s',
        ...SERVICES.map((s) => `${s}: start-up CPU s, RSS started / idle / peak MB`),
      ],
      modes.map((mode) => [
        mode,
        n(of(mode).startupMs / 1000, 2),
        ...SERVICES.map(
          (s) =>
            `${n(of(mode).startupCpuSeconds[s], 2)}, ${n(of(mode).startedRssMb[s])} / ${n(of(mode).idleRssMb[s])} / ${n(of(mode).peakRssMb[s])}`,
        ),
      ]),
    ),
    '',
    '*Started*: a second after the system came up. *Idle*: the lowest RSS while every system sat idle for ' +
      `${n(settings.idleS)} s, once V8's memory reducer has shrunk the heap (node's default flags). ` +
      `For scale: an idle \`node\` process with nothing loaded has an RSS of ${n(machine.bareNodeRssMb)} MB here.`,
    '',
    '## Token and event verification (mean)',
    '',
    table(
      ['step', 'time'],
      [
        ['first verification, ES256 (CPU)', `${n(results.verification.firstUs.es256, 1)} us`],
        ['first verification, RS256 (CPU)', `${n(results.verification.firstUs.rs256, 1)} us`],
        ['repeat verification of a seen token (CPU)', `${n(results.verification.repeatUs, 2)} us`],
        ['JWKS refresh (loopback HTTP)', `${n(results.verification.jwksRefreshMs, 2)} ms`],
        ['token exchange, a token exchanged before (CPU)', `${n(results.exchange.hitUs, 2)} us`],
        [
          'token exchange, a new token: a round trip to the issuer (loopback, mutual TLS)',
          `${n(results.exchange.missMs, 2)} ms`,
        ],
        ['DPoP proof at the gateway, ES256 (CPU)', `${n(results.dpop.proofUs, 1)} us`],
        ['DPoP proof with server nonces (CPU)', `${n(results.dpop.withNonceUs, 1)} us`],
        ['signed event, signing at the producer (CPU)', `${n(results.events.signUs, 1)} us`],
        ['signed event, checking at the consumer (CPU)', `${n(results.events.verifyUs, 1)} us`],
        [
          "signed event, a producer's first: its certificate checked too (CPU)",
          `${n(results.events.verifyFirstUs, 1)} us`,
        ],
      ],
    ),
    '',
    "Every hop exchanges its caller's token for the callee's audience (`AUTH_DELEGATION=exchange`, " +
      'the default, which every system above runs), remembered per token and audience until shortly ' +
      "before it expires: a user's first call through a hop pays the round trip, the next ones the lookup. " +
      'The gateway checks a fresh DPoP proof with every request of a DPoP-bound token (`AUTH_DPOP=required`, ' +
      'the default with the bundled issuer): a signature check no cache can save, paid at the edge only. The ' +
      'systems above are loaded with bearer tokens (`AUTH_DPOP=allowed`), so their figures leave it out. ' +
      "Events on the broker are signed with their producer's certificate key; a consumer checks a " +
      "producer's certificate against the CA once, then each event's signature and the certificate's " +
      'validity. The systems above run without a broker (events go straight over mutual TLS).',
    '',
    ...growthSection(results),
  ].join('\n');
}

/** The floor under the CPU and sequential targets: mutual TLS between two bare processes. */
function floorSection({ floor }: BenchResults): string[] {
  const row = (pace: string, figure: TlsFloor['sequentialRoundTrip']) => [
    pace,
    n(figure.plainUs, 1),
    n(figure.tlsUs, 1),
    n(figure.addedUs, 1),
  ];
  return [
    '## The floor: mutual TLS between two bare processes',
    '',
    "Two node processes that run none of the services' code, a client and a server, exchange " +
      'envelope-sized messages (a kilobyte of JSON out, an order back after 80 awaits) one at a ' +
      "time, over plain TCP and over mutual TLS 1.3 with the bench's certificates, " +
      `${floor.runs} runs of each, taking turns (\`npm run bench:tls\` for other paces). A message ` +
      'and its answer are one hop, so what TLS adds here is the least TLS in the process can add ' +
      'to a hop on this runtime and machine, before a token is read: the last column of the targets.',
    '',
    table(
      ['pace', 'plain TCP us', 'mutual TLS us', 'TLS adds us'],
      [
        ...PATHS.map((path) =>
          row(
            `${path}s' fixed rate, a message every ${n(floor.cpuAtRate[path].gapMs, 2)} ms: CPU of both per message and answer`,
            floor.cpuAtRate[path],
          ),
        ),
        row(
          "sequential's, one at a time at once: a message's round trip at p50",
          floor.sequentialRoundTrip,
        ),
      ],
    ),
    '',
  ];
}

/** How cost grows with active users, connections and the orders table. */
function growthSection(results: BenchResults): string[] {
  const { tokenCache, growth } = results;
  return [
    '## How cost grows',
    '',
    `The token cache (${n(tokenCache[0]?.cacheSize ?? NaN)} tokens, the default \`AUTH_TOKEN_CACHE_SIZE\`) under many active users, ` +
      'each request from a user picked at random, every user equally likely (the worst case for a cache):',
    '',
    table(
      ['active users', 'verifications', 'cache hit ratio', 'CPU per verification us'],
      tokenCache.map((row) => [n(row.users), n(row.requests), n(row.hitRatio, 2), n(row.cpuUs, 1)]),
    ),
    '',
    'Concurrent connections at the gateway, `GET /api/orders/:id`, saturated, on a secure system of its own:',
    '',
    table(
      ['connections', 'req/s', 'p50 / p99 ms', 'failed', 'gateway RSS MB'],
      growth.connections.map((row) => [
        n(row.connections),
        n(row.throughput),
        `${n(row.latencyMs.p50, 2)} / ${n(row.latencyMs.p99, 2)}`,
        n(row.failed),
        n(row.gatewayRssMb),
      ]),
    ),
    '',
    "The orders table growing (other users' orders added), the bench user's reads:",
    '',
    table(
      [
        'rows',
        'by id: sequential p50 ms',
        'by id: saturated req/s',
        'list: sequential p50 ms',
        'list: saturated req/s',
      ],
      growth.tables.map((row) => [
        rowsLabel(row.rows),
        n(row.byId.sequentialP50Ms, 3),
        n(row.byId.throughput),
        n(row.list.sequentialP50Ms, 3),
        n(row.list.throughput),
      ]),
    ),
    '',
  ];
}

/** In-process security against the mesh, when the run had one. */
function meshSection(results: BenchResults): string[] {
  const mesh = results.meshComparison;
  if (!mesh) return ['No mesh comparison in this run (a smoke run, or `--no-mesh`).', ''];
  return [
    '## In-process security against a service mesh',
    '',
    "Each over the insecure system, per hop; the mesh's CPU includes its sidecars.",
    '',
    table(
      [
        'path',
        'in-process / mesh throughput',
        'added CPU per hop us: in-process / mesh',
        'sequential added p50 per hop us: in-process / mesh',
      ],
      PATHS.map((path) => {
        const m = mesh[path];
        return [
          results.paths[path].route,
          n(m.throughputRatio, 2),
          `${n(m.addedCpuUsPerHop.inProcess, 0)} / ${n(m.addedCpuUsPerHop.mesh, 0)}`,
          `${n(m.sequentialAddedUsPerHop.inProcess, 0)} / ${n(m.sequentialAddedUsPerHop.mesh, 0)}`,
        ];
      }),
    ),
    '',
    "Where in-process security's added CPU goes, per hop. The mesh's services verify every " +
      'token, run every guard and keep the call context as the secure system does, and leave ' +
      'TLS to their sidecars: TLS in the process is what the secure system spends over them, ' +
      'the rest what they spend over the insecure system. Each is the median of paired rounds, ' +
      'so the two parts need not add up to the whole.',
    '',
    table(
      [
        'path',
        'added CPU per hop us',
        'TLS in the process us',
        'token verification, guards and call context us',
      ],
      PATHS.map((path) => [
        results.paths[path].route,
        n(mesh[path].addedCpuUsPerHop.inProcess, 0),
        n(mesh[path].inProcessCpuUsPerHop.tls, 0),
        n(mesh[path].inProcessCpuUsPerHop.tokens, 0),
      ]),
    ),
    '',
  ];
}
