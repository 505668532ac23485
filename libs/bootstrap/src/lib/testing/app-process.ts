import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

  /**
   * Starts the app and resolves once it listens on its port; rejects, with its output, if it
   * exits first. The listener must be the app's own: a port from `freePort()` can be taken by
   * another suite's process in between, and a test would then talk to that stranger.
   */
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
    while (!((await isListening(this.port)) && this.ownsListener())) {
      if (this.child.exitCode !== null) {
        throw new Error(`${this.app} exited with ${this.child.exitCode}:\n${this.output}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.app}: not listening on ${this.port} after ${START_TIMEOUT_MS} ms (is another process on it?):\n${this.output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Resolves once `GET <path>` answers 200, as an orchestrator waits for an HTTP app's
   * readiness before sending it traffic; rejects, with the last answer, after `timeoutMs`.
   */
  async waitUntilReady(path = '/readyz', timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}${path}`, {
          signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 100)),
        });
        if (response.status === 200) return;
        last = `${response.status} ${await response.text()}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.app}: GET ${path} not 200 after ${timeoutMs} ms: ${last}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Whether a listening socket on the port is one of the child's (Linux: /proc); true elsewhere. */
  private ownsListener(): boolean {
    const pid = this.child?.pid;
    if (pid === undefined || process.platform !== 'linux') return true;
    const port = this.port.toString(16).toUpperCase().padStart(4, '0');
    const listening = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        // sl local_address rem_address st ... inode: state 0A is LISTEN.
        const fields = line.trim().split(/\s+/);
        if (fields[1]?.endsWith(`:${port}`) && fields[3] === '0A') listening.add(fields[9]);
      }
    }
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
        return listening.has(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '');
      });
    } catch {
      // The child is gone: the loop reports its exit.
      return false;
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
