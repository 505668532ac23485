import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { BENCH_INSECURE_CONSENT, HEALTH_ROUTES } from '@acme/bootstrap';
import { freePort, isListening, TestPki } from '@acme/bootstrap/testing';
import { TestIssuer } from '@acme/auth/testing';
import { readTlsMaterial } from '@acme/transport';
import type { TlsFiles, TlsMaterial } from '@acme/transport';
import type { RequestSpec } from './load';
import type { PathName } from './report';
import { MeshSidecars } from './mesh-sidecars';

/** Where every system's schemas live, as for the system e2e tests. */
export const DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export const SERVICES = ['gateway', 'order', 'payment'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const TRUST_DOMAIN = 'acme.bench';
export const AUDIENCE = 'urn:acme:api';
/** The user who owns every order of a run, and whose token drives the load. */
export const BENCH_USER = 'bench-user';
/** Each service's OAuth client secret at the bench's issuer: for token exchange, and payment's own calls. */
export const CLIENT_SECRETS: Readonly<Record<ServiceName, string>> = {
  gateway: 'gateway-client-secret-for-benchmark-runs-01',
  order: 'order-client-secret-for-benchmark-runs-0001',
  payment: 'payment-client-secret-for-benchmark-runs-01',
};

/** The bench's issuer: its certificate serves the token endpoint over mutual TLS. */
export const ISSUER = 'auth-server';

/** The bench's issuer, whose token endpoint serves each service's client over mutual TLS. */
export function startBenchIssuer(pki: TestPki): Promise<TestIssuer> {
  return TestIssuer.start({
    audience: AUDIENCE,
    clients: CLIENT_SECRETS,
    mutualTls: tlsOf(pki, ISSUER),
  });
}

/** The token that drives the load: the bench user's, with the scopes of both paths, for an hour. */
export function benchUserToken(issuer: TestIssuer): string {
  return issuer.userToken(BENCH_USER, {
    roles: ['user'],
    scope: 'orders:read orders:write',
    expiresIn: 3_600,
  });
}

/**
 * A path's requests as the bench user, over the orders `ids`: a read of each in turn, or the
 * payment of each (pending ones: paying a paid one would stop at order). `exhausted` is
 * called once every order has been paid.
 */
export function pathRequests(
  path: PathName,
  token: string,
  ids: readonly string[],
  exhausted: () => void = () => undefined,
): RequestSpec {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let next = 0;
  if (path === 'read') {
    return { method: 'GET', headers, nextPath: () => `/api/orders/${ids[next++ % ids.length]}` };
  }
  return {
    method: 'POST',
    headers,
    body: JSON.stringify({ cardToken: 'tok_benchmark0001' }),
    nextPath: () => {
      if (next >= ids.length) exhausted();
      return `/api/orders/${ids[next++ % ids.length]}/pay`;
    },
  };
}

/**
 * The C library's allocator settings the images run every service with (`ENV MALLOC_...` in
 * the Dockerfile's final stage): a benchmark of production builds runs with them too.
 */
export function imageAllocatorEnv(workspace: string): Record<string, string> {
  const dockerfile = readFileSync(join(workspace, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.search(/^FROM .* AS final$/m);
  if (finalStage < 0) throw new Error('the Dockerfile has no "FROM ... AS final" stage');
  const env = dockerfile
    .slice(finalStage)
    .split('\n')
    .filter((line) => line.startsWith('ENV '));
  return Object.fromEntries(
    env.flatMap((line) =>
      [...line.matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)].map(([, name, value]) => [name, value]),
    ),
  );
}

/** Certificates (the issuer's too), client secrets and data keys, shared by every system of a run. */
export async function writeMaterial(): Promise<TestPki> {
  const pki = await TestPki.create({
    trustDomain: TRUST_DOMAIN,
    services: [...SERVICES, ISSUER],
    clientSecrets: CLIENT_SECRETS,
  });
  const dataKey = Buffer.alloc(32, 7).toString('base64');
  writeFileSync(
    pki.file('payment.data-keys.json'),
    JSON.stringify({ current: 'bench-1', keys: { 'bench-1': dataKey } }),
  );
  return pki;
}

/**
 * The certificate, key and CA of `name`: the issuer's serve its mutual-TLS token endpoint,
 * where services get tokens bound to their certificates (RFC 8705), as from the bundled
 * auth server.
 */
export function tlsOf(pki: TestPki, name: ServiceName | typeof ISSUER): TlsMaterial {
  return readTlsMaterial(tlsFilesOf(pki, name));
}

/** Where {@link tlsOf} reads them from: for a process that reads them itself. */
export function tlsFilesOf(pki: TestPki, name: ServiceName | typeof ISSUER): TlsFiles {
  return {
    caFile: pki.file('ca.crt'),
    certFile: pki.file(`${name}.crt`),
    keyFile: pki.file(`${name}.key`),
  };
}

export interface SystemOptions {
  /**
   * `secure`, `insecure` (BENCH_INSECURE), `traced` (secure, with tracing) or
   * `mesh` (TRANSPORT_SECURITY=mesh behind HAProxy sidecars): names schemas and logs too.
   */
  mode: 'secure' | 'insecure' | 'traced' | 'mesh';
  /** Where the `traced` system exports its spans. */
  otlpEndpoint?: string;
  workspace: string;
  /** From {@link writeMaterial}. */
  material: TestPki;
  logDir: string;
  issuer: string;
  databaseUrl: string;
  runId: string;
  /** Write a V8 CPU profile of each service here (`node --cpu-prof`), on exit. */
  profileDir?: string;
  /** Extra flags for each service's `node`, e.g. `--max-semi-space-size=1`, to measure their effect. */
  nodeFlags?: readonly string[];
  /** A command to run a service's `node` under, e.g. valgrind, by service. */
  wrapper?: Partial<Record<ServiceName, readonly string[]>>;
  /** How long each service may take to listen, and the gateway to be ready: 60 s unless set. */
  startTimeoutMs?: number;
}

/** gateway, order and payment started from dist/ as separate processes, production builds, NODE_ENV=benchmark. */
export class BenchSystem {
  readonly processes = new Map<ServiceName, ChildProcess>();
  private ports = {} as Record<ServiceName, number>;
  private sidecars?: MeshSidecars;

  constructor(private readonly options: SystemOptions) {}

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.ports.gateway}`;
  }

  pid(service: ServiceName): number {
    const pid = this.processes.get(service)?.pid;
    if (pid === undefined) throw new Error(`${service} is not running`);
    return pid;
  }

  schema(service: 'order' | 'payment'): string {
    return `${service}_bench_${this.options.mode}_${this.options.runId}`;
  }

  /**
   * Starts all three at once and resolves with the milliseconds until the
   * gateway reports ready: issuer keys loaded, order and payment answering.
   */
  async start(): Promise<number> {
    for (const service of SERVICES) this.ports[service] = await freePort();
    if (this.options.mode === 'mesh') {
      this.sidecars = await MeshSidecars.allocate();
      await this.sidecars.start(this.options.material, this.ports, this.options.logDir);
    }
    const started = performance.now();
    for (const service of SERVICES) this.spawn(service);
    await Promise.all(SERVICES.map((service) => this.waitForPort(service)));
    await this.waitUntilReady();
    return performance.now() - started;
  }

  /** The sidecars' processes, whose CPU is the mesh's cost; none outside `mesh`. */
  sidecarPids(): number[] {
    return this.sidecars?.pids() ?? [];
  }

  async stop(): Promise<void> {
    await this.sidecars?.stop();
    await Promise.all(
      [...this.processes.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }),
    );
  }

  /**
   * The orders `expected` requests of a path go through: reads take 100 in turn; a write pays
   * a fresh pending one each time (paying a paid one would stop at order), a fifth to spare.
   */
  seedOrdersFor(path: PathName, expected: number): Promise<string[]> {
    return this.seedOrders(path === 'read' ? 100 : Math.ceil(expected * 1.2));
  }

  /** Pending orders of the bench user, inserted straight into order's schema; returns their ids. */
  async seedOrders(count: number): Promise<string[]> {
    return this.withDatabase(async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO "${this.schema('order')}".orders (id, owner_id, status, items, total, currency)
         SELECT gen_random_uuid(), $1, 'PENDING', '[{"sku":"book-1","quantity":1,"unitPrice":2999}]'::jsonb, 2999, 'EUR'
         FROM generate_series(1, $2::int) RETURNING id`,
        [BENCH_USER, count],
      );
      return rows.map((row) => row.id);
    });
  }

  /**
   * Pending orders of other users, so that order's table holds `count` more rows: how reads
   * of the bench user's orders hold up as the table grows. Inserted in batches of 100 000.
   */
  async seedOtherOrders(count: number): Promise<void> {
    await this.withDatabase(async (client) => {
      for (let done = 0; done < count; done += 100_000) {
        await client.query(
          `INSERT INTO "${this.schema('order')}".orders (id, owner_id, status, items, total, currency)
           SELECT gen_random_uuid(), 'other-user-' || (n % 10000), 'PENDING', '[{"sku":"book-1","quantity":1,"unitPrice":2999}]'::jsonb, 2999, 'EUR'
           FROM generate_series(1, $1::int) AS n`,
          [Math.min(100_000, count - done)],
        );
      }
      // VACUUM too, not ANALYZE alone: after a million inserts autovacuum would otherwise start
      // on the table during the measurement, and on 2 cores its CPU shows up as slower reads.
      await client.query(`VACUUM (ANALYZE) "${this.schema('order')}".orders`);
      // And a checkpoint: the inserts' WAL starts one, which spreads its writes of the dirty
      // pages over minutes (checkpoint_completion_target), through the reads measured next.
      // Needs a superuser or pg_checkpoint, as the bench's default role is.
      await client.query('CHECKPOINT');
    });
  }

  /** Rows in order's table. */
  async countOrders(): Promise<number> {
    return this.withDatabase(async (client) => {
      const { rows } = await client.query<{ count: string }>(
        `SELECT count(*) FROM "${this.schema('order')}".orders`,
      );
      return Number(rows[0].count);
    });
  }

  /** Payments recorded by payment: proves the write path reached the third service. */
  async countPayments(): Promise<number> {
    return this.withDatabase(async (client) => {
      const { rows } = await client.query<{ count: string }>(
        `SELECT count(*) FROM "${this.schema('payment')}".payments`,
      );
      return Number(rows[0].count);
    });
  }

  async dropSchemas(): Promise<void> {
    await this.withDatabase(async (client) => {
      for (const service of ['order', 'payment'] as const) {
        await client.query(`DROP SCHEMA IF EXISTS "${this.schema(service)}" CASCADE`);
      }
    });
  }

  private async withDatabase<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.options.databaseUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  private spawn(service: ServiceName): void {
    const log = openSync(join(this.options.logDir, `${this.options.mode}-${service}.log`), 'w');
    const profile = this.options.profileDir
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${this.options.profileDir}`,
          `--cpu-prof-name=${this.options.mode}-${service}.cpuprofile`,
        ]
      : [];
    const [command, ...wrapperArgs] = [
      ...(this.options.wrapper?.[service] ?? []),
      process.execPath,
    ];
    const child = spawn(
      command,
      [
        ...wrapperArgs,
        ...(this.options.nodeFlags ?? []),
        ...profile,
        join(this.options.workspace, 'dist/apps', service, 'main.js'),
      ],
      {
        cwd: this.options.workspace,
        env: { PATH: process.env['PATH'] ?? '', ...this.env(service) },
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    this.processes.set(service, child);
  }

  private env(service: ServiceName): Record<string, string> {
    const { material } = this.options;
    return {
      NODE_ENV: 'benchmark',
      ...imageAllocatorEnv(this.options.workspace),
      ...(this.options.mode === 'insecure' ? { BENCH_INSECURE: BENCH_INSECURE_CONSENT } : {}),
      ...(this.options.mode === 'traced'
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: this.options.otlpEndpoint ?? '' }
        : {}),
      HOST: '127.0.0.1',
      PORT: String(this.ports[service]),
      // Off: the fixed metrics ports would collide with a running `npm start` or test.
      METRICS_PORT: '0',
      ...material.env(service),
      AUTH_ISSUER: this.options.issuer,
      // The defaults: each service accepts its own audience, and each call exchanges the
      // caller's token for the callee's (AUTH_DELEGATION=exchange, cached per token).
      ...this.addresses(service),
      DATA_KEYS_FILE: material.file('payment.data-keys.json'),
      DATABASE_URL: this.options.databaseUrl,
      ...(service === 'gateway' ? {} : { DATABASE_SCHEMA: this.schema(service) }),
      // The load sends bearer tokens: a DPoP proof per request would measure the load
      // generator's signing. What a proof costs the gateway is measured on its own.
      AUTH_DPOP: 'allowed',
      // Saturation queues requests for seconds on a busy machine, and a service under valgrind
      // answers its first writes in tens of seconds: that is load, not a failure to measure.
      CALL_TIMEOUT_MS: '30000',
      REQUEST_TIMEOUT_MS: '30000',
      // The edge's rate limit would measure itself: the load comes from one user.
      RATE_LIMIT_REPLENISH_RATE: '1000000',
      RATE_LIMIT_BURST_CAPACITY: '1000000',
      // Likewise the per-address limit: every request of the load comes from 127.0.0.1.
      RATE_LIMIT_PER_ADDRESS_REPLENISH_RATE: '1000000',
      RATE_LIMIT_PER_ADDRESS_BURST_CAPACITY: '1000000',
    };
  }

  /** Where a service calls the others: straight, or through its sidecar behind the mesh. */
  private addresses(service: ServiceName): Record<string, string> {
    const sidecars = this.sidecars;
    if (!sidecars) {
      return {
        ORDER_ADDRESS: `127.0.0.1:${this.ports.order}`,
        PAYMENT_ADDRESS: `127.0.0.1:${this.ports.payment}`,
      };
    }
    const calls: Record<ServiceName, Record<string, string>> = {
      gateway: { ORDER_ADDRESS: sidecars.address('gateway', 'order') },
      order: { PAYMENT_ADDRESS: sidecars.address('order', 'payment') },
      payment: { ORDER_ADDRESS: sidecars.address('payment', 'order') },
    };
    return { TRANSPORT_SECURITY: 'mesh', ...calls[service] };
  }

  private async waitForPort(service: ServiceName): Promise<void> {
    await poll(
      `${service} listening on ${this.ports[service]}`,
      this.options.startTimeoutMs ?? START_TIMEOUT_MS,
      () => this.assertRunning(service),
      () => isListening(this.ports[service]),
    );
  }

  private async waitUntilReady(): Promise<void> {
    await poll(
      'the gateway ready',
      this.options.startTimeoutMs ?? START_TIMEOUT_MS,
      () => SERVICES.forEach((s) => this.assertRunning(s)),
      async () => {
        const response = await fetch(`${this.gatewayUrl}/${HEALTH_ROUTES.readiness}`).catch(
          () => undefined,
        );
        return response?.status === 200;
      },
    );
  }

  private assertRunning(service: ServiceName): void {
    const child = this.processes.get(service);
    if (child?.exitCode !== null && child?.exitCode !== undefined) {
      throw new Error(
        `${service} exited with ${child.exitCode}: see ${join(this.options.logDir, `${this.options.mode}-${service}.log`)}`,
      );
    }
  }
}

const START_TIMEOUT_MS = 60_000;

/** Retries `check` every 20 ms until the timeout; `guard` throws to give up early (a process died). */
export async function poll(
  what: string,
  timeoutMs: number,
  guard: () => void,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    guard();
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what} (${timeoutMs / 1000} s)`);
}
