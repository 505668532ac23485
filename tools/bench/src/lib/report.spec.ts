import type { Latency, LoadResult } from './load';
import { summarize } from './load';
import {
  compare,
  compareWithMesh,
  evaluateTargets,
  medianRoundDifference,
  renderMarkdown,
  tracingCost,
} from './report';
import type { BenchResults, ModeResult, PathInfo, PathModeResult } from './report';
import type { TableGrowth } from './growth';
import type { TlsFloor } from './tls-pair';

function load(throughput: number, p50: number, p99: number): LoadResult {
  return {
    ok: 100,
    failed: 0,
    statusCodes: { 200: 100 },
    durationS: 1,
    throughput,
    latencyMs: { p50, p90: p99, p99, mean: p50 },
  };
}

function mode(
  throughput: number,
  p50: number,
  p99: number,
  idleRssMb = 80,
  cpuSecondsPer1000 = { gateway: 0.3, order: 0.2, payment: 0.1 },
  sidecarCpuSecondsPer1000 = 0,
): ModeResult {
  const [atRate, sequential] = [
    load(throughput / 2, p50, p99),
    // Without queueing: half the latency at the fixed rate.
    load(throughput, p50 / 2, p99 / 2),
  ];
  const path = {
    saturated: load(throughput, 5, 20),
    atRate,
    atRateLatencyByRound: [atRate.latencyMs, atRate.latencyMs, atRate.latencyMs],
    sequential,
    sequentialLatencyByRound: [sequential.latencyMs, sequential.latencyMs, sequential.latencyMs],
    cpuSecondsPer1000,
    sidecarCpuSecondsPer1000,
    cpuSecondsPer1000ByRound: roundsOf(cpuSecondsPer1000, sidecarCpuSecondsPer1000),
    sidecarCpuSecondsPer1000ByRound: roundsOf({}, sidecarCpuSecondsPer1000),
  };
  return {
    startupMs: 3_000,
    startupCpuSeconds: { gateway: 1, order: 1, payment: 1 },
    startedRssMb: { gateway: 120, order: 120, payment: 120 },
    idleRssMb: { gateway: idleRssMb, order: idleRssMb, payment: idleRssMb },
    peakRssMb: { gateway: 100, order: 100, payment: 100 },
    paths: { read: path, write: path },
    paymentsCreated: 10,
  };
}

/** Three fixed-rate rounds, each with the pooled figure. */
function roundsOf(services: Record<string, number>, sidecars = 0): number[] {
  const total = Object.values(services).reduce((a, b) => a + b, 0) + sidecars;
  return [total, total, total];
}

const paths: Record<'read' | 'write', PathInfo> = {
  read: { route: 'GET /api/orders/:id', hops: 2, rate: 450 },
  write: { route: 'POST /api/orders/:id/pay', hops: 3, rate: 150 },
};

function table(rows: number, byIdP50: number, listP50: number): TableGrowth {
  return {
    rows,
    byId: { sequentialP50Ms: byIdP50, throughput: 900 },
    list: { sequentialP50Ms: listP50, throughput: 700 },
  };
}

function results(
  secure: ModeResult,
  insecure: ModeResult,
  repeatUs = 2,
  traced: ModeResult = secure,
  mesh?: ModeResult,
  tables = [table(10_000, 2.0, 3.0), table(1_000_000, 2.1, 3.2)],
): BenchResults {
  const partial = {
    kind: 'full' as const,
    machine: {
      cpus: 2,
      cpuModel: 'test CPU',
      node: 'v20.0.0',
      platform: 'linux x64',
      date: '2026-01-01T00:00:00.000Z',
      loadAverage: [0.1, 0.2, 0.3],
      bareNodeRssMb: 40,
    },
    settings: {
      connections: 32,
      durationS: 8,
      rounds: 2,
      rateRounds: 6,
      rateDurationS: 4,
      rateConnections: 8,
      logLevel: 'info',
      nodeFlags: [],
      allocatorEnv: { MALLOC_ARENA_MAX: '2' },
      idleS: 60,
      database: 'PostgreSQL',
    },
    paths,
    secure,
    insecure,
    traced,
    comparison: compare(paths, secure, insecure),
    tracing: { ...tracingCost(secure, traced), exports: 12 },
    ...(mesh ? { mesh, meshComparison: compareWithMesh(paths, secure, insecure, mesh) } : {}),
    verification: { iterations: 10, firstUs: { es256: 90, rs256: 30 }, repeatUs, jwksRefreshMs: 1 },
    exchange: { hitUs: 1.5, missMs: 2.25 },
    dpop: { proofUs: 61.5, withNonceUs: 63.25 },
    events: { signUs: 30.5, verifyUs: 71.25, verifyFirstUs: 290 },
    tokenCache: [
      { users: 1_000, cacheSize: 10_000, requests: 3_000, hitRatio: 1, cpuUs: 3 },
      { users: 100_000, cacheSize: 10_000, requests: 100_000, hitRatio: 0.1, cpuUs: 120 },
    ],
    growth: {
      connections: [
        {
          connections: 1_024,
          throughput: 800,
          latencyMs: { p50: 100, p90: 200, p99: 400, mean: 120 },
          failed: 3,
          gatewayRssMb: 180,
        },
      ],
      tables,
    },
    floor: FLOOR,
  };
  return { ...partial, targets: evaluateTargets(partial) };
}

const FLOOR: TlsFloor = {
  runs: 5,
  cpuAtRate: {
    read: { gapMs: 1.25, plainUs: 130, tlsUs: 175.5, addedUs: 44.25 },
    write: { gapMs: 10, plainUs: 150, tlsUs: 230, addedUs: 81 },
  },
  sequentialRoundTrip: { plainUs: 90, tlsUs: 120, addedUs: 31.5 },
};

describe(summarize.name, () => {
  it('gives nearest-rank percentiles and the mean', () => {
    const sample = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(sample)).toEqual({ p50: 50, p90: 90, p99: 99, mean: 50.5 });
  });

  it('is not a number for an empty sample, rather than zero', () => {
    expect(summarize([]).p50).toBeNaN();
  });
});

describe(compare.name, () => {
  it('divides the added latency by the hops of each path', () => {
    const comparison = compare(paths, mode(900, 2.2, 4.6), mode(1000, 2.0, 4.0));
    expect(comparison.read.throughputRatio).toBeCloseTo(0.9);
    expect(comparison.read.addedMsPerHop.p50).toBeCloseTo(0.1);
    expect(comparison.write.addedMsPerHop.p99).toBeCloseTo(0.2);
    // Sequential medians 1.1 and 1.0 ms over 2 hops.
    expect(comparison.read.sequentialAddedUsPerHop).toBeCloseTo(50);
  });

  it('counts the CPU of every process per hop, in microseconds', () => {
    const secure = mode(900, 2, 4, 80, { gateway: 0.3, order: 0.2, payment: 0.1 });
    const insecure = mode(1000, 2, 4, 80, { gateway: 0.25, order: 0.15, payment: 0.08 });
    // 0.6 - 0.48 ms per request, over 2 hops on the read path, 3 on the write path.
    expect(compare(paths, secure, insecure).read.addedCpuUsPerHop).toBeCloseTo(60);
    expect(compare(paths, secure, insecure).write.addedCpuUsPerHop).toBeCloseTo(40);
  });

  it('compares the CPU round by round, leaving out a round that a slow spell hit', () => {
    const secure = mode(900, 2, 4);
    const insecure = mode(1000, 2, 4);
    secure.paths.read = { ...secure.paths.read, cpuSecondsPer1000ByRound: [0.6, 0.62, 1.6] };
    insecure.paths.read = { ...insecure.paths.read, cpuSecondsPer1000ByRound: [0.48, 0.5, 0.49] };
    // Differences 0.12, 0.12 and 1.11 ms: the median, over 2 hops.
    expect(compare(paths, secure, insecure).read.addedCpuUsPerHop).toBeCloseTo(60);
  });

  it('takes the middle two of an even number of rounds', () => {
    const secure = mode(900, 2, 4);
    const insecure = mode(1000, 2, 4);
    secure.paths.read = { ...secure.paths.read, cpuSecondsPer1000ByRound: [0.6, 0.7, 0.8, 2] };
    insecure.paths.read = {
      ...insecure.paths.read,
      cpuSecondsPer1000ByRound: [0.5, 0.5, 0.5, 0.5],
    };
    // Differences 0.1, 0.2, 0.3 and 1.5 ms: (0.2 + 0.3) / 2 over 2 hops.
    expect(compare(paths, secure, insecure).read.addedCpuUsPerHop).toBeCloseTo(125);
  });

  it('refuses to pair systems that ran different numbers of rounds', () => {
    const secure = mode(900, 2, 4);
    const insecure = mode(1000, 2, 4);
    insecure.paths.read = { ...insecure.paths.read, cpuSecondsPer1000ByRound: [0.5, 0.5] };
    expect(() => compare(paths, secure, insecure)).toThrow('cannot pair 3 rounds with 2');
  });

  it('compares the latency round by round too, at the fixed rate and sequentially', () => {
    const latency = (p50: number, p99 = p50 * 2): Latency => ({ p50, p90: p99, p99, mean: p50 });
    /** `result` with these rounds, and with the round of the lowest median where the tables show it. */
    const withRounds = (
      result: PathModeResult,
      atRate: Latency[],
      sequential: Latency[],
    ): PathModeResult => {
      const best = (byRound: Latency[]) => ({
        ...load(1, 0, 0),
        latencyMs: byRound.reduce((a, b) => (b.p50 < a.p50 ? b : a)),
      });
      return {
        ...result,
        atRate: best(atRate),
        atRateLatencyByRound: atRate,
        sequential: best(sequential),
        sequentialLatencyByRound: sequential,
      };
    };
    const secure = mode(900, 2, 4);
    const insecure = mode(1000, 2, 4);
    // The second round of the secure system hit a slow spell of the machine; the third round
    // of the sequential ones was quiet for both.
    secure.paths.read = withRounds(
      secure.paths.read,
      [latency(2.1, 5), latency(9, 90), latency(2.2, 5.2)],
      [latency(1.2), latency(3), latency(0.9)],
    );
    insecure.paths.read = withRounds(
      insecure.paths.read,
      [latency(2.0, 4.6), latency(2.0, 4.8), latency(1.5, 2)],
      [latency(1.0), latency(1.02), latency(0.8)],
    );
    const { read } = compare(paths, secure, insecure);
    // p50 differences 0.1, 7 and 0.7 ms; p99 0.4, 85.2 and 3.2: the medians, over 2 hops. The
    // best rounds' differences would give 0.3 and 1.5.
    expect(read.addedMsPerHop.p50).toBeCloseTo(0.35);
    expect(read.addedMsPerHop.p99).toBeCloseTo(1.6);
    // Sequential differences 0.2, 1.98 and 0.1 ms: 0.2 over 2 hops, where the best rounds
    // (0.9 and 0.8 ms) would give 0.1.
    expect(read.sequentialAddedUsPerHop).toBeCloseTo(100);
  });
});

describe(medianRoundDifference.name, () => {
  it('is the median of the differences round by round, not the difference of the medians', () => {
    // The second round of `more` hit a slow spell of the machine.
    expect(medianRoundDifference([10, 100, 12], [9, 1, 11])).toBe(1);
  });

  it('refuses rounds it cannot pair', () => {
    expect(() => medianRoundDifference([1, 2], [1])).toThrow('cannot pair 2 rounds with 1');
  });
});

describe(compareWithMesh.name, () => {
  it("sets in-process security against the mesh, the sidecars' CPU included", () => {
    const insecure = mode(1000, 2.0, 4.0, 80, { gateway: 0.25, order: 0.15, payment: 0.08 });
    const secure = mode(900, 2.2, 4.4, 80, { gateway: 0.3, order: 0.2, payment: 0.1 });
    const mesh = mode(600, 2.8, 6.0, 80, { gateway: 0.27, order: 0.17, payment: 0.09 }, 0.3);
    const read = compareWithMesh(paths, secure, insecure, mesh).read;
    expect(read.throughputRatio).toBeCloseTo(1.5);
    expect(read.addedCpuUsPerHop.inProcess).toBeCloseTo(60);
    // (0.53 + 0.3 - 0.48) ms per request over 2 hops.
    expect(read.addedCpuUsPerHop.mesh).toBeCloseTo(175);
    expect(read.sequentialAddedUsPerHop).toEqual({
      inProcess: expect.closeTo(50),
      mesh: expect.closeTo(200),
    });
  });

  it("splits in-process security's CPU into TLS and the rest, the sidecars left out", () => {
    const insecure = mode(1000, 2.0, 4.0, 80, { gateway: 0.25, order: 0.15, payment: 0.08 });
    const secure = mode(900, 2.2, 4.4, 80, { gateway: 0.3, order: 0.2, payment: 0.1 });
    const mesh = mode(600, 2.8, 6.0, 80, { gateway: 0.27, order: 0.17, payment: 0.09 }, 0.3);
    // The mesh's second round was slow in its services, not its sidecars: the median leaves it out.
    mesh.paths.read = {
      ...mesh.paths.read,
      cpuSecondsPer1000ByRound: [0.83, 1.83, 0.83],
      sidecarCpuSecondsPer1000ByRound: [0.3, 0.3, 0.3],
    };
    const split = compareWithMesh(paths, secure, insecure, mesh).read.inProcessCpuUsPerHop;
    // Secure 0.6, the mesh's services 0.53, insecure 0.48 ms per request, over 2 hops.
    expect(split.tls).toBeCloseTo(35);
    expect(split.tokens).toBeCloseTo(25);
  });

  it('refuses sidecar CPU for fewer rounds than the CPU it is part of', () => {
    const mesh = mode(600, 2.8, 6.0, 80, undefined, 0.3);
    mesh.paths.read = { ...mesh.paths.read, sidecarCpuSecondsPer1000ByRound: [0.3] };
    expect(() => compareWithMesh(paths, mode(900, 2.2, 4.4), mode(1000, 2.0, 4.0), mesh)).toThrow(
      '1 rounds of sidecar CPU for 3 rounds',
    );
  });
});

describe(tracingCost.name, () => {
  it('gives what tracing adds to the secure system: throughput ratio, CPU and latency', () => {
    const traced = mode(810, 2.5, 5.0);
    const cpuSecondsPer1000 = { gateway: 0.33, order: 0.22, payment: 0.1 };
    traced.paths.read = {
      ...traced.paths.read,
      cpuSecondsPer1000,
      cpuSecondsPer1000ByRound: roundsOf(cpuSecondsPer1000),
    };
    const cost = tracingCost(mode(900, 2.2, 4.6), traced);
    expect(cost.read.throughputRatio).toBeCloseTo(0.9);
    // 0.65 - 0.6 CPU seconds per 1000 requests: 50 us per request.
    expect(cost.read.addedCpuUsPerRequest).toBeCloseTo(50);
    expect(cost.read.addedMs.p50).toBeCloseTo(0.3);
    expect(cost.write.addedMs.p99).toBeCloseTo(0.4);
  });
});

describe(evaluateTargets.name, () => {
  it('meets every target when security is nearly free', () => {
    expect(
      results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0)).targets.filter((t) => !t.met),
    ).toEqual([]);
  });

  it('says by how much a target is missed', () => {
    const missed = results(mode(700, 3.0, 4.0, 95), mode(1000, 2.0, 4.0), 7).targets.filter(
      (t) => !t.met,
    );
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'read: secure / insecure throughput', missedBy: '0.20' }),
    );
    // Sequential medians 1.5 and 1.0 ms over 2 hops: 250 us per hop.
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'read: sequential added p50 per hop', missedBy: '200 us' }),
    );
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'repeat verification of a seen token', missedBy: '2.00 us' }),
    );
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'idle RSS of order (secure)', missedBy: '5.0 MB' }),
    );
  });

  it('sets the CPU and sequential targets beside what mutual TLS alone costs two bare processes', () => {
    const { targets } = results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0));
    const tlsAlone = (name: string) => targets.find((t) => t.name === name)?.tlsAlone;
    expect(tlsAlone('read: CPU security adds per hop')).toBe('44 us');
    expect(tlsAlone('write: CPU security adds per hop')).toBe('81 us');
    expect(tlsAlone('write: sequential added p50 per hop')).toBe('32 us');
    expect(tlsAlone('read: secure / insecure throughput')).toBeUndefined();
  });

  it('expects reads to stay flat as the orders table grows, smallest table against largest', () => {
    const growing = results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0), 2, undefined, undefined, [
      table(10_000, 2.0, 3.0),
      table(100_000, 9.0, 9.0),
      table(1_000_000, 3.0, 3.3),
    ]).targets;
    expect(growing).toContainEqual(
      expect.objectContaining({
        name: 'read by id: sequential p50 at 1M rows / at 10k',
        measured: '1.50 x',
        missedBy: '0.25 x',
      }),
    );
    expect(growing).toContainEqual(
      expect.objectContaining({ name: 'list: sequential p50 at 1M rows / at 10k', met: true }),
    );
  });
});

describe(renderMarkdown.name, () => {
  it('renders the machine, the targets and one row per path and mode', () => {
    const markdown = renderMarkdown(results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0)));
    expect(markdown).toContain('2 × test CPU, node v20.0.0');
    expect(markdown).toContain('| read: secure / insecure throughput | >= 0.90 | 0.90 | yes |');
    expect(markdown).toContain(
      '| POST /api/orders/:id/pay | 3 | insecure | 1000 | 150 | 2.00 / 4.00 / 4.00 | 1.000 |',
    );
    expect(markdown).toContain('No mesh comparison in this run');
  });

  it('renders the floor: mutual TLS alone between two bare processes, at each pace', () => {
    const markdown = renderMarkdown(results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0)));
    expect(markdown).toContain('| read: CPU security adds per hop | <= 40 us |');
    expect(markdown).toMatch(/\| read: CPU security adds per hop \|[^\n]*\| 44 us \|\n/);
    expect(markdown).toContain('## The floor: mutual TLS between two bare processes');
    expect(markdown).toContain(
      "| writes' fixed rate, a message every 10.00 ms: CPU of both per message and answer | 150.0 | 230.0 | 81.0 |",
    );
    expect(markdown).toContain(
      "| sequential's, one at a time at once: a message's round trip at p50 | 90.0 | 120.0 | 31.5 |",
    );
  });

  it('renders the cost of token exchange, of signed events and how cost grows', () => {
    const markdown = renderMarkdown(results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0)));
    expect(markdown).toContain('| token exchange, a token exchanged before (CPU) | 1.50 us |');
    expect(markdown).toContain('| signed event, checking at the consumer (CPU) | 71.3 us |');
    expect(markdown).toContain(
      "| signed event, a producer's first: its certificate checked too (CPU) | 290.0 us |",
    );
    expect(markdown).toContain('| 100000 | 100000 | 0.10 | 120.0 |');
    expect(markdown).toContain('| 1024 | 800 | 100.00 / 400.00 | 3 | 180 |');
    expect(markdown).toContain('| 1M | 2.100 | 900 | 3.200 | 700 |');
  });

  it('judges in-process security against the mesh when the run had one', () => {
    const insecure = mode(1000, 2.0, 4.0);
    const secure = mode(900, 2.1, 4.2, 80, { gateway: 0.34, order: 0.2, payment: 0.1 });
    const mesh = mode(950, 2.6, 5.0, 80, { gateway: 0.31, order: 0.2, payment: 0.1 }, 0.2);
    const markdown = renderMarkdown(results(secure, insecure, 2, undefined, mesh));
    expect(markdown).toContain('## In-process security against a service mesh');
    expect(markdown).toContain('| GET /api/orders/:id | 0.95 | 20 / 105 | 25 / 150 |');
    // Secure 0.64, the mesh's services 0.61, insecure 0.6 ms per request, over 2 hops.
    expect(markdown).toContain('| GET /api/orders/:id | 20 | 15 | 5 |');
    expect(markdown).toContain(
      '| read: in-process / mesh throughput | >= 1.00 | 0.95 | **no**, by 0.05 |',
    );
  });
});
