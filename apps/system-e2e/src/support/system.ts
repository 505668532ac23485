import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { CertificateAuthority } from '@acme/transport/testing';
import { AppProcess, freePort, TestPki } from '@acme/bootstrap/testing';
import { EVENT_ROUTES } from '@acme/contracts';
import { NatsServer } from '@acme/events/testing';

export const TRUST_DOMAIN = 'acme.test';
/** The public API's audience: the gateway's. Each service behind it accepts its own, `urn:acme:<service>`. */
export const AUDIENCE = 'urn:acme:api';
/** PostgreSQL of the test machine (CI starts it). */
export const POSTGRES_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** OAuth client secrets of the services in e2e runs (the issuer needs them too). */
export const CLIENT_SECRETS: Readonly<Record<string, string>> = {
  gateway: 'gateway-client-secret-for-e2e-runs-00000001',
  order: 'order-client-secret-for-e2e-runs-0000000001',
  payment: 'payment-client-secret-for-e2e-runs-00000001',
};
const SERVICES = ['gateway', 'order', 'payment'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** gateway -> order -> payment as separate processes, with a fresh PKI in a temp dir. */
export class SecureSystem {
  readonly dir = mkdtempSync(join(tmpdir(), 'acme-e2e-'));
  readonly processes = new Map<ServiceName, AppProcess>();
  private pki!: TestPki;
  ca!: CertificateAuthority;
  readonly clientSecrets: Record<string, string> = CLIENT_SECRETS;
  dataKeys = { current: 'e2e-1', keys: { 'e2e-1': randomBytes(32).toString('base64') } };

  /**
   * @param options.database `postgres` (default): order and payment each in a
   *   fresh schema of this run on TEST_DATABASE_URL; `embedded`: each in its own PGlite.
   * @param options.broker events over a NATS JetStream broker of this run (its own
   *   nats-server, TLS, a user per service certificate) instead of the direct path.
   * @param options.nodeOptions `NODE_OPTIONS` of every process the system starts, the
   *   auth-server's too (`env` is the services' only).
   */
  constructor(
    private issuer: string | 'auth-server',
    private readonly options: {
      database?: 'postgres' | 'embedded';
      env?: Record<string, string>;
      broker?: boolean;
      nodeOptions?: string;
    } = {},
  ) {}

  /** The broker, when the system runs with one (`{ broker: true }`). */
  broker?: NatsServer;

  get databaseUrl(): string | undefined {
    return this.options.database === 'embedded' ? undefined : POSTGRES_URL;
  }

  /** The issuer the services trust: the test issuer given, or the auth-server this system runs. */
  get issuerUrl(): string {
    return this.issuer;
  }

  /** The auth-server process, when the system runs it (`new SecureSystem('auth-server')`). */
  authServer?: AppProcess;

  /** The schema of a service's data in this run, when PostgreSQL is used. */
  schema(service: ServiceName): string {
    return `${service}_e2e_${this.runId}`;
  }

  private readonly runId = `${process.pid}_${Date.now()}`;

  /** The service's Prometheus endpoint, on a port apart from its own. */
  metricsUrl(service: ServiceName): string {
    return `http://127.0.0.1:${this.metricsPorts[service]}/metrics`;
  }

  private readonly metricsPorts = {} as Record<ServiceName, number>;

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.port('gateway')}`;
  }

  port(service: ServiceName): number {
    const process = this.processes.get(service);
    if (!process) throw new Error(`${service} is not configured`);
    return process.port;
  }

  /** Path of a PEM file in the temp PKI: `ca.crt`, `<service>.crt`, `<service>.key`. */
  file(name: string): string {
    return join(this.dir, name);
  }

  async start(): Promise<void> {
    this.pki = await TestPki.create({
      trustDomain: TRUST_DOMAIN,
      // `broker` is nats-server's own certificate; `operator` inspects streams in tests;
      // `auth-server` serves the mutual-TLS token endpoint.
      services: [
        ...SERVICES,
        ...(this.issuer === 'auth-server' ? ['auth-server'] : []),
        ...(this.options.broker ? ['broker', 'operator'] : []),
      ],
      clientSecrets: this.clientSecrets,
      dir: this.dir,
    });
    this.ca = this.pki.ca;
    writeFileSync(this.file('payment.data-keys.json'), JSON.stringify(this.dataKeys));
    if (this.issuer === 'auth-server') await this.startAuthServer();
    if (this.options.broker) {
      this.broker = await NatsServer.start({
        caFile: this.file('ca.crt'),
        certFile: this.file('broker.crt'),
        keyFile: this.file('broker.key'),
        trustDomain: TRUST_DOMAIN,
        routes: Object.values(EVENT_ROUTES),
        operators: ['operator'],
      });
    }
    const ports = { gateway: await freePort(), order: await freePort(), payment: await freePort() };
    for (const service of SERVICES) this.metricsPorts[service] = await freePort();
    for (const service of SERVICES) {
      this.processes.set(
        service,
        new AppProcess(service, ports[service], this.env(service, ports)),
      );
    }
    // Callees first, so the readiness of each is known before its callers start.
    for (const service of ['payment', 'order', 'gateway'] as const) {
      await this.startService(service);
    }
  }

  /** The gateway counts as started once ready, as an orchestrator would send it traffic. */
  private async startService(service: ServiceName): Promise<void> {
    const process = this.processes.get(service);
    await process?.start();
    if (service === 'gateway') await process?.waitUntilReady();
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.processes.values(), ...(this.authServer ? [this.authServer] : [])].map((p) =>
        p.stop(),
      ),
    );
    await this.broker?.remove();
    rmSync(this.dir, { recursive: true, force: true });
    if (this.databaseUrl) {
      const client = new Client({ connectionString: this.databaseUrl });
      await client.connect();
      for (const service of ['order', 'payment'] as const) {
        await client.query(`DROP SCHEMA IF EXISTS "${this.schema(service)}" CASCADE`);
      }
      await client.end();
    }
  }

  /** The real OpenID provider, with its own keys and the services' client secrets from this run. */
  private async startAuthServer(): Promise<void> {
    const port = await freePort();
    const mtlsPort = await freePort();
    this.issuer = `http://127.0.0.1:${port}`;
    this.authServer = new AppProcess('auth-server', port, {
      PORT: String(port),
      ISSUER: this.issuer,
      // Services ask for their tokens here, bound to their certificates (RFC 8705).
      ...this.pki.env('auth-server'),
      MTLS_PORT: String(mtlsPort),
      MTLS_URL: `https://localhost:${mtlsPort}`,
      API_AUDIENCE: AUDIENCE,
      KEYS_DIR: this.file('auth-server-keys'),
      CLIENT_SECRETS_DIR: this.dir,
      ...this.nodeOptions(),
    });
    await this.authServer.start();
  }

  /** Restarts one service on the same port with the same configuration and data. */
  async restart(service: ServiceName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.processes.get(service)?.stop(signal);
    await this.startService(service);
  }

  /** Everything the processes printed, to check what must never be logged. */
  logs(): string {
    return [...this.processes.values(), ...(this.authServer ? [this.authServer] : [])]
      .map((p) => p.output)
      .join('\n');
  }

  /**
   * The environment a service runs with, to start another process of it:
   * without a metrics endpoint, whose port the running one holds.
   */
  envOf(service: ServiceName): Record<string, string> {
    const process = this.processes.get(service);
    if (!process) throw new Error(`${service} is not configured`);
    return { ...process.env, METRICS_PORT: '0' };
  }

  private env(service: ServiceName, ports: Record<ServiceName, number>): Record<string, string> {
    return {
      PORT: String(ports[service]),
      METRICS_PORT: String(this.metricsPorts[service]),
      ...this.pki.env(service),
      AUTH_ISSUER: this.issuer,
      ORDER_ADDRESS: `localhost:${ports.order}`,
      PAYMENT_ADDRESS: `localhost:${ports.payment}`,
      CALL_TIMEOUT_MS: '3000',
      DATA_DIR: this.file(`data-${service}`),
      DATA_KEYS_FILE: this.file('payment.data-keys.json'),
      DATABASE_SCHEMA: this.schema(service),
      ...(this.databaseUrl ? { DATABASE_URL: this.databaseUrl } : {}),
      ...(this.broker && service !== 'gateway' ? { BROKER_URL: this.broker.url } : {}),
      // The test issuer binds no token to a certificate: bearer service tokens there.
      ...(this.authServer ? {} : { AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: 'false' }),
      // Suites about other things send bearer tokens; dpop.e2e-spec.ts runs the default (required).
      AUTH_DPOP: 'allowed',
      CIRCUIT_RESET_MS: '1000',
      // Generous, for suites that test other things; the gateway-rate-limit suite sets its own.
      RATE_LIMIT_REPLENISH_RATE: '10000',
      RATE_LIMIT_BURST_CAPACITY: '10000',
      RATE_LIMIT_PER_ADDRESS_REPLENISH_RATE: '10000',
      RATE_LIMIT_PER_ADDRESS_BURST_CAPACITY: '10000',
      ...this.nodeOptions(),
      ...this.options.env,
    };
  }

  private nodeOptions(): Record<string, string> {
    return this.options.nodeOptions ? { NODE_OPTIONS: this.options.nodeOptions } : {};
  }
}
