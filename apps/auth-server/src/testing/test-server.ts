import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import type { AuditEvent } from '@acme/auth';
import { serveMetricsOf } from '@acme/bootstrap';
import { createAuthServer } from '../app.factory';
import { parseConfig, type AuthServerConfig } from '../config';
import { serveMutualTls } from '../mtls/mtls-listener';

/** apps/auth-server, whatever the working directory of the test run. */
export const APP_ROOT = resolve(__dirname, '../..');

/** What oidc-provider printed (it reports through console.warn and console.info). */
export const providerConsole: string[] = [];
for (const method of ['warn', 'info'] as const) {
  jest.spyOn(console, method).mockImplementation((...parts: unknown[]) => {
    providerConsole.push(parts.map(String).join(' '));
  });
}

export interface TestServer {
  issuer: string;
  config: AuthServerConfig;
  /** Temporary folder holding this server's keys and client secrets. */
  dir: string;
  /** Everything the app logged through Nest. */
  logs: string[];
  /** The audit events among them, oldest first. */
  audits: AuditEvent[];
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

function logged(part: unknown): string | undefined {
  if (part instanceof Error) return part.stack;
  return typeof part === 'object' && part !== null ? JSON.stringify(part) : String(part);
}

function capturingLogger(logs: string[], audits: AuditEvent[]): LoggerService {
  const capture = (...parts: unknown[]): void => {
    const [first] = parts;
    if (typeof first === 'object' && first !== null && 'audit' in first) {
      audits.push(first.audit as AuditEvent);
    }
    logs.push(parts.map(logged).join(' '));
  };
  return {
    log: capture,
    warn: capture,
    error: capture,
    debug: capture,
    verbose: capture,
    fatal: capture,
  };
}

/**
 * Starts the real app on 127.0.0.1 and a free port, with the shipped clients, the development users and fresh keys
 * and secrets in a temporary folder. `env` overrides any variable; pass `dir` (and PORT and ISSUER)
 * of a stopped server to restart it.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  dir = mkdtempSync(join(tmpdir(), 'auth-server-')),
): Promise<TestServer> {
  const port = env.PORT ?? String(await freePort());
  const config = parseConfig({
    PORT: port,
    ISSUER: `http://127.0.0.1:${port}`,
    KEYS_DIR: join(dir, 'keys'),
    CLIENT_SECRETS_DIR: join(dir, 'secrets'),
    CLIENTS_FILE: join(APP_ROOT, 'config/clients.json'),
    USERS_FILE: join(APP_ROOT, 'dev/users.json'),
    // Off, so that parallel test files do not contend for 9403; a test that scrapes passes a free port.
    METRICS_PORT: '0',
    // Off (service tokens are bearer tokens) unless a test gives a port and a PKI.
    MTLS_PORT: '0',
    ...env,
  });
  const logs: string[] = [];
  const audits: AuditEvent[] = [];
  const app = await createAuthServer(config, { logger: capturingLogger(logs, audits) });
  await app.listen(config.port, '127.0.0.1');
  if (config.mtls) await serveMutualTls(app, config.mtls);
  await serveMetricsOf(app, config);
  return { issuer: config.issuer, config, dir, logs, audits, close: () => app.close() };
}
