import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isListening } from '@acme/transport/testing';
import { renderBrokerAuthorization } from '../broker-permissions';
import type { EventRouteSpec } from '../broker-permissions';

/** Debian's and the official image's path; `NATS_SERVER_BIN` overrides it. */
const NATS_SERVER = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

export interface NatsServerOptions {
  /** PEM files: the CA that issues service certificates, and the broker's own certificate and key. */
  caFile: string;
  certFile: string;
  keyFile: string;
  trustDomain: string;
  routes: readonly EventRouteSpec[];
  /** Certificate names (SPIFFE service part) allowed the whole JetStream API, to inspect streams. */
  operators?: readonly string[];
}

/**
 * A throwaway nats-server with JetStream on a free port, configured as in
 * production: TLS only, each service authenticated by its certificate and
 * limited by the permissions derived from the event routes. Its store stays
 * across `kill()` and `restart()`, as a real broker's disk does.
 *
 * @example
 * const broker = await NatsServer.start({ caFile, certFile, keyFile, trustDomain, routes });
 * // BROKER_URL = broker.url; broker.kill(); await broker.restart(); broker.remove();
 */
export class NatsServer {
  private child?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(options: NatsServerOptions): Promise<NatsServer> {
    if (!existsSync(NATS_SERVER)) {
      throw new Error(
        `nats-server not found at ${NATS_SERVER}: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN`,
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'acme-nats-'));
    const server = new NatsServer(await freePort(), dir);
    writeFileSync(
      join(dir, 'nats.conf'),
      [
        `listen: "127.0.0.1:${server.port}"`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))} }`,
        `tls ${JSON.stringify({
          cert_file: options.certFile,
          key_file: options.keyFile,
          ca_file: options.caFile,
          verify_and_map: true,
          timeout: 2,
        })}`,
        renderBrokerAuthorization(options.trustDomain, options.routes, options.operators),
      ].join('\n'),
    );
    await server.restart();
    return server;
  }

  get url(): string {
    return `tls://127.0.0.1:${this.port}`;
  }

  /** What the server printed: permission violations and authorization errors are there. */
  get log(): string {
    return this.output;
  }

  /** Starts it (again) on the same port and store. */
  async restart(): Promise<void> {
    const child = spawn(NATS_SERVER, ['-c', join(this.dir, 'nats.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await isListening(this.port)) || !this.output.includes('Server is ready')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`nats-server did not start on ${this.port}:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills it (SIGKILL, as a crash) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills it and deletes its store. */
  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
