import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const WORKSPACE = join(__dirname, '../../../..');
/** Generous: a busy CI machine can take this long to start an app with an embedded database. */
const START_TIMEOUT_MS = 60_000;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One built app (`dist/apps/<app>/<entry>`) running as its own process, its output kept for failures. */
export class AppProcess {
  private child?: ChildProcess;
  output = '';

  constructor(
    readonly app: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly entry = 'main.js',
  ) {}

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [join(WORKSPACE, 'dist/apps', this.app, this.entry)], {
      cwd: WORKSPACE,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'test',
        PORT: String(this.port),
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await listening(this.port))) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.app} exited with ${this.child.exitCode}:\n${this.output}`);
      if (Date.now() > deadline)
        throw new Error(
          `${this.app}: nothing listens on ${this.port} after ${START_TIMEOUT_MS} ms:\n${this.output}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
