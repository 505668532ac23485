import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isListening } from '@acme/transport/testing';

/** The workspace root, where `dist/apps/<app>` is built. */
export const WORKSPACE = join(__dirname, '../../../../..');
/** Generous: a busy CI machine can take this long to start an app with an embedded database. */
const START_TIMEOUT_MS = 60_000;

/**
 * One built app (`dist/apps/<app>/<entry>`) running as its own process on
 * `port` (given to it as `PORT`), with its output kept for failures and for
 * tests that read its logs.
 *
 * @example
 * const order = new AppProcess('order', await freePort(), { AUTH_ISSUER: issuer.issuer });
 * await order.start();
 */
export class AppProcess {
  private child?: ChildProcess;
  output = '';

  constructor(
    readonly app: string,
    readonly port: number,
    readonly env: Record<string, string>,
    private readonly entry = 'main.js',
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resident memory of the process, from /proc (Linux). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid ?? 0}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }

  /** Starts the app and resolves once its port accepts connections; rejects, with its output, if it exits first. */
  async start(): Promise<void> {
    this.child = spawn(process.execPath, [join(WORKSPACE, 'dist/apps', this.app, this.entry)], {
      cwd: WORKSPACE,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'test',
        PORT: String(this.port),
        // Test systems run side by side: the fixed metrics ports would collide. A test that
        // scrapes metrics gives a free port.
        METRICS_PORT: '0',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await isListening(this.port))) {
      if (this.child.exitCode !== null) {
        throw new Error(`${this.app} exited with ${this.child.exitCode}:\n${this.output}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.app}: nothing listens on ${this.port} after ${START_TIMEOUT_MS} ms:\n${this.output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Resolves once `test` holds for the output; rejects after `timeoutMs`. Logs are written
   * asynchronously: a line may land after the response it belongs to.
   */
  async waitForOutput(test: (output: string) => boolean, timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this.output)) {
      if (Date.now() > deadline) {
        throw new Error(`${this.app}: not logged within ${timeoutMs} ms: ${test.toString()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends the signal and resolves with the exit code (null if killed by a signal); SIGKILL after 10 s. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return child?.exitCode ?? null;
    }
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  }
}
