import { drive } from './load';
import type { Latency, RequestSpec } from './load';
import { processStats } from './process-stats';
import type { BenchSystem } from './system';

export interface GrowthSettings {
  /** Concurrent connections at the gateway, one saturation run each. */
  connections: readonly number[];
  /** Sizes of order's table, smallest first: other users' orders are added between sizes. */
  tableRows: readonly number[];
  durationS: number;
}

export interface ConnectionGrowth {
  connections: number;
  /** 2xx answers per second, reads. */
  throughput: number;
  latencyMs: Latency;
  /** Answers other than 2xx, connection errors and timeouts. */
  failed: number;
  /** The gateway's RSS right after the run. */
  gatewayRssMb: number;
}

export interface TableRead {
  /** One connection, one request at a time: the lowest median of three rounds. */
  sequentialP50Ms: number;
  /** Saturated, with the main runs' connections. */
  throughput: number;
}

export interface TableGrowth {
  rows: number;
  /** `GET /api/orders/:id`, an order of the bench user's. */
  byId: TableRead;
  /** `GET /api/orders`, the first page of the bench user's orders. */
  list: TableRead;
}

export interface GrowthResult {
  connections: ConnectionGrowth[];
  tables: TableGrowth[];
}

/**
 * How the secure system's cost grows with the load's shape rather than its rate: many
 * connections at the gateway, and an orders table from thousands to millions of rows.
 * `system` is a fresh secure system of its own, so that its table starts empty.
 */
export async function measureGrowth(
  system: BenchSystem,
  token: string,
  settings: GrowthSettings & { saturationConnections: number },
  log: (line: string) => void,
): Promise<GrowthResult> {
  const ids = await system.seedOrders(100);
  let next = 0;
  const headers = { authorization: `Bearer ${token}` };
  const byId: RequestSpec = {
    method: 'GET',
    headers,
    nextPath: () => `/api/orders/${ids[next++ % ids.length]}`,
  };
  const list: RequestSpec = { method: 'GET', headers, nextPath: () => '/api/orders' };
  const run = (spec: RequestSpec, connections: number) =>
    drive(system.gatewayUrl, spec, { connections, durationS: settings.durationS });

  await run(byId, settings.saturationConnections); // warm-up: JIT, connections, caches
  const connections: ConnectionGrowth[] = [];
  for (const count of settings.connections) {
    log(`growth: ${count} connections`);
    const result = await run(byId, count);
    connections.push({
      connections: count,
      throughput: result.throughput,
      latencyMs: result.latencyMs,
      failed: result.failed,
      gatewayRssMb: processStats(system.pid('gateway')).rssMb,
    });
  }

  const tables: TableGrowth[] = [];
  for (const rows of settings.tableRows) {
    const missing = rows - (await system.countOrders());
    log(`growth: ${rows} rows in the orders table (adding ${Math.max(0, missing)})`);
    if (missing > 0) await system.seedOtherOrders(missing);
    const read = async (spec: RequestSpec): Promise<TableRead> => {
      await run(spec, settings.saturationConnections); // warm-up: plans and caches at this size
      // The lowest median of three, as for the main runs: one round's median moved by 2x
      // between runs on this machine, while the database lookup itself took 0.1-0.5 ms.
      const rounds = [await run(spec, 1), await run(spec, 1), await run(spec, 1)];
      const sequential = rounds.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a));
      const saturated = await run(spec, settings.saturationConnections);
      assertAnswered(`${rows} rows`, [...rounds, saturated]);
      return { sequentialP50Ms: sequential.latencyMs.p50, throughput: saturated.throughput };
    };
    tables.push({ rows, byId: await read(byId), list: await read(list) });
  }
  return { connections, tables };
}

function assertAnswered(what: string, runs: { failed: number; statusCodes: object }[]): void {
  const failed = runs.reduce((sum, run) => sum + run.failed, 0);
  if (failed > 0) {
    throw new Error(
      `${what}: ${failed} requests failed: ${JSON.stringify(runs.map((r) => r.statusCodes))}`,
    );
  }
}
