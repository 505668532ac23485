import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, freePort, TestPki, WORKSPACE } from '@acme/bootstrap/testing';

const TRUST_DOMAIN = 'acme.test';
const AUDIENCE = 'urn:acme:api';
const SERVICES = ['gateway', 'order', 'payment'] as const;
type Service = (typeof SERVICES)[number];

/**
 * The system as a browser meets it, each app a built process on a free port of 127.0.0.1: the
 * auth server, gateway -> order -> payment over mutual TLS with a fresh PKI, and the web app.
 * The `web` client of the real clients.json is registered at this run's web origin.
 */
export class WebSystem {
  private readonly dir = mkdtempSync(join(tmpdir(), 'acme-web-e2e-'));
  private readonly processes = new Map<Service | 'auth-server' | 'web', AppProcess>();
  private pki!: TestPki;

  constructor(private readonly options: { accessTokenTtlSeconds: number }) {}

  get webUrl(): string {
    return this.url('web');
  }

  get issuerUrl(): string {
    return this.url('auth-server');
  }

  get gatewayUrl(): string {
    return this.url('gateway');
  }

  async start(): Promise<void> {
    const ports = {
      'auth-server': await freePort(),
      gateway: await freePort(),
      order: await freePort(),
      payment: await freePort(),
      web: await freePort(),
      mtls: await freePort(),
    };
    const url = (app: keyof typeof ports) => `http://127.0.0.1:${ports[app]}`;
    await this.writeSecrets();
    this.processes.set(
      'auth-server',
      new AppProcess('auth-server', ports['auth-server'], {
        ISSUER: url('auth-server'),
        API_AUDIENCE: AUDIENCE,
        ACCESS_TOKEN_TTL: String(this.options.accessTokenTtlSeconds),
        KEYS_DIR: this.file('auth-server-keys'),
        CLIENT_SECRETS_DIR: this.dir,
        CLIENTS_FILE: this.writeClients(url('web')),
        // Services ask for their tokens here, bound to their certificates (RFC 8705).
        ...this.pki.env('auth-server'),
        MTLS_PORT: String(ports.mtls),
        MTLS_URL: `https://localhost:${ports.mtls}`,
      }),
    );
    for (const service of SERVICES) {
      this.processes.set(
        service,
        new AppProcess(service, ports[service], {
          ...this.pki.env(service),
          AUTH_ISSUER: url('auth-server'),
          ORDER_ADDRESS: `localhost:${ports.order}`,
          PAYMENT_ADDRESS: `localhost:${ports.payment}`,
          CALL_TIMEOUT_MS: '3000',
          DATA_DIR: this.file(`data-${service}`),
          DATA_KEYS_FILE: this.file('payment.data-keys.json'),
          CORS_ORIGINS: url('web'),
          ...(service === 'gateway'
            ? {
                // The page addresses the gateway at 127.0.0.1, not localhost: its DPoP proofs say so.
                AUTH_DPOP_PUBLIC_ORIGIN: url('gateway'),
                // Server nonces on: the page must fetch one and retry, as a browser client must.
                AUTH_DPOP_NONCE: 'true',
              }
            : {}),
        }),
      );
    }
    this.processes.set(
      'web',
      new AppProcess(
        'web',
        ports.web,
        { GATEWAY_URL: url('gateway'), AUTH_ISSUER: url('auth-server') },
        'server.mjs',
      ),
    );
    // Callees before their callers, so that each start-up failure names its app.
    await Promise.all([
      this.app('auth-server').start(),
      this.app('payment').start(),
      this.app('web').start(),
    ]);
    await this.app('order').start();
    await this.app('gateway').start();
  }

  /** Stops one app, to see how the page reports it. */
  async stopApp(app: Service): Promise<void> {
    await this.app(app).stop();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((app) => app.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Everything the apps printed, for a failure message. */
  logs(): string {
    return [...this.processes.values()].map((app) => `--- ${app.app}\n${app.output}`).join('\n');
  }

  private app(name: Service | 'auth-server' | 'web'): AppProcess {
    const app = this.processes.get(name);
    if (!app) throw new Error(`${name} is not started`);
    return app;
  }

  private url(name: Service | 'auth-server' | 'web'): string {
    return `http://127.0.0.1:${this.app(name).port}`;
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  /** Certificates of the services, their OAuth client secrets and payment's data key. */
  private async writeSecrets(): Promise<void> {
    const secret = () => randomBytes(32).toString('base64url');
    this.pki = await TestPki.create({
      trustDomain: TRUST_DOMAIN,
      services: [...SERVICES, 'auth-server'],
      clientSecrets: { gateway: secret(), order: secret(), payment: secret() },
      dir: this.dir,
    });
    const dataKeys = { current: 'e2e-1', keys: { 'e2e-1': randomBytes(32).toString('base64') } };
    writeFileSync(this.file('payment.data-keys.json'), JSON.stringify(dataKeys));
  }

  /** The repository's clients.json, with the `web` client's URIs moved to this run's origin. */
  private writeClients(webUrl: string): string {
    const clients = JSON.parse(
      readFileSync(join(WORKSPACE, 'apps/auth-server/config/clients.json'), 'utf8'),
    ) as {
      client_id: string;
    }[];
    const moved = clients.map((client) =>
      client.client_id === 'web'
        ? {
            ...client,
            redirect_uris: [`${webUrl}/callback`],
            post_logout_redirect_uris: [`${webUrl}/`],
          }
        : client,
    );
    writeFileSync(this.file('clients.json'), JSON.stringify(moved));
    return this.file('clients.json');
  }
}
