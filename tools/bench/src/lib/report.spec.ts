import type { LoadResult } from './load';
import { summarize } from './load';
import { compare, evaluateTargets, renderMarkdown, tracingCost } from './report';
import type { BenchResults, ModeResult, PathInfo } from './report';

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

function mode(throughput: number, p50: number, p99: number, idleRssMb = 80): ModeResult {
  const path = {
    saturated: load(throughput, 5, 20),
    atRate: load(throughput / 2, p50, p99),
    cpuSecondsPer1000: { gateway: 0.3, order: 0.2, payment: 0.1 },
  };
  return {
    startupMs: 3_000,
    startupCpuSeconds: { gateway: 1, order: 1, payment: 1 },
    idleRssMb: { gateway: idleRssMb, order: idleRssMb, payment: idleRssMb },
    peakRssMb: { gateway: 100, order: 100, payment: 100 },
    paths: { read: path, write: path },
    paymentsCreated: 10,
  };
}

const paths: Record<'read' | 'write', PathInfo> = {
  read: { route: 'GET /api/orders/:id', hops: 2, rate: 450 },
  write: { route: 'POST /api/orders/:id/pay', hops: 3, rate: 150 },
};

function results(
  secure: ModeResult,
  insecure: ModeResult,
  repeatUs = 2,
  traced: ModeResult = secure,
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
      rateConnections: 8,
      logLevel: 'info',
      nodeFlags: [],
      database: 'PostgreSQL',
    },
    paths,
    secure,
    insecure,
    traced,
    comparison: compare(paths, secure, insecure),
    tracing: { ...tracingCost(secure, traced), exports: 12 },
    verification: { iterations: 10, firstUs: { es256: 90, rs256: 30 }, repeatUs, jwksRefreshMs: 1 },
  };
  return { ...partial, targets: evaluateTargets(partial) };
}

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
  });
});

describe(tracingCost.name, () => {
  it('gives what tracing adds to the secure system: throughput ratio, CPU and latency', () => {
    const traced = mode(810, 2.5, 5.0);
    traced.paths.read = {
      ...traced.paths.read,
      cpuSecondsPer1000: { gateway: 0.33, order: 0.22, payment: 0.1 },
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
      expect.objectContaining({ name: 'read: secure / insecure throughput', missedBy: '0.15' }),
    );
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'read: added p50 latency per hop', missedBy: '0.40 ms' }),
    );
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'repeat verification of a seen token', missedBy: '2.00 us' }),
    );
    expect(missed).toContainEqual(
      expect.objectContaining({ name: 'idle RSS of order (secure)', missedBy: '5.0 MB' }),
    );
  });
});

describe(renderMarkdown.name, () => {
  it('renders the machine, the targets and one row per path and mode', () => {
    const markdown = renderMarkdown(results(mode(900, 2.1, 4.2), mode(1000, 2.0, 4.0)));
    expect(markdown).toContain('2 × test CPU, node v20.0.0');
    expect(markdown).toContain('| read: secure / insecure throughput | >= 0.85 | 0.90 | yes |');
    expect(markdown).toContain(
      '| POST /api/orders/:id/pay | 3 | insecure | 1000 | 150 | 2.00 / 4.00 / 4.00 |',
    );
  });
});
