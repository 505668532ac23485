import autocannon from 'autocannon';

/** One kind of request, with a path that may change per request (a fresh order to pay each time). */
export interface RequestSpec {
  method: 'GET' | 'POST';
  nextPath: () => string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  connections: number;
  durationS: number;
  /** Requests per second over all connections; unset: as fast as the system answers (saturation). */
  rate?: number;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export interface LoadResult {
  /** Answers with a 2xx status. */
  ok: number;
  /** Anything else: other statuses, connection errors, timeouts. */
  failed: number;
  statusCodes: Record<string, number>;
  durationS: number;
  /** 2xx answers per second. */
  throughput: number;
  /** Of 2xx answers, in milliseconds. */
  latencyMs: Latency;
}

/**
 * Drives `url` with autocannon and measures latency itself: autocannon's own
 * histogram keeps whole milliseconds, too coarse for a per-hop cost of 0.1 ms.
 * At a fixed rate the latency is that of each answer (no correction for
 * coordinated omission: at half of saturation the queue stays short).
 */
export function drive(url: string, spec: RequestSpec, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.durationS,
        overallRate: options.rate,
        timeout: 10,
        requests: [
          {
            method: spec.method,
            headers: spec.headers,
            body: spec.body,
            setupRequest: (request) => ({ ...request, path: spec.nextPath() }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const statusCodes = Object.fromEntries(
          Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
        );
        resolve({
          ok: latencies.length,
          failed: result.non2xx + result.errors + result.timeouts,
          statusCodes,
          durationS: result.duration,
          throughput: latencies.length / result.duration,
          latencyMs: summarize(latencies),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** Exact percentiles (nearest rank) and mean of a sample, in its unit. */
export function summarize(sample: readonly number[]): Latency {
  if (sample.length === 0) return { p50: NaN, p90: NaN, p99: NaN, mean: NaN };
  const sorted = Float64Array.from(sample).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}
