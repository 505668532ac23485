import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKSPACE = join(__dirname, '../../..');
/** Local state, build output and dependencies: never copied (node_modules is linked). */
const NOT_COPIED = new Set([
  'node_modules',
  'dist',
  'tmp',
  'coverage',
  '.nx',
  '.git',
  '.dev',
  '.angular',
]);

export interface RunResult {
  code: number | null;
  output: string;
}

/**
 * A copy of this workspace in a temp dir, sharing its node_modules, to run
 * generators and builds in without touching the real one.
 */
export class ThrowawayWorkspace {
  readonly root = mkdtempSync(join(tmpdir(), 'acme-plugin-e2e-'));
  private readonly running = new Set<number>();

  constructor() {
    cpSync(WORKSPACE, this.root, {
      recursive: true,
      filter: (source) => !NOT_COPIED.has(source.slice(WORKSPACE.length + 1).split('/')[0]),
    });
    symlinkSync(join(WORKSPACE, 'node_modules'), join(this.root, 'node_modules'), 'dir');
  }

  path(...segments: string[]): string {
    return join(this.root, ...segments);
  }

  /** `nx <args>` in the copy: no daemon, no cloud, no cache shared with the real workspace. */
  nx(args: string[], timeoutMs: number): Promise<RunResult> {
    return this.run(this.path('node_modules/.bin/nx'), args, timeoutMs, {
      NX_SKIP_NX_CACHE: 'true',
    });
  }

  /** A TypeScript script of the copy, run as npm scripts run them. */
  script(path: string, args: string[], timeoutMs: number): Promise<RunResult> {
    return this.run(process.execPath, ['-r', '@swc-node/register', path, ...args], timeoutMs);
  }

  /**
   * Runs a command in its own process group and kills the whole group when it
   * times out or the workspace is removed: nx, its workers and any server they start.
   */
  run(
    command: string,
    args: string[],
    timeoutMs: number,
    env: Record<string, string> = {},
  ): Promise<RunResult> {
    const child = spawn(command, args, {
      cwd: this.root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_TUI: 'false',
        FORCE_COLOR: '0',
        CI: 'true',
        ...env,
      },
    });
    const pid = child.pid as number;
    this.running.add(pid);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      this.killGroup(pid);
    }, timeoutMs);
    return new Promise((resolve) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        this.running.delete(pid);
        resolve({ code, output });
      });
    });
  }

  remove(): void {
    for (const pid of this.running) this.killGroup(pid);
    rmSync(this.root, { recursive: true, force: true });
  }

  private killGroup(pid: number): void {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
