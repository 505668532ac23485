// npm start: creates the dev PKI if missing, then serves every app with Nx.
// Nx runs in its own process group so that Ctrl-C or a SIGTERM to npm stops
// nx and every server it started: no orphaned processes.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const APPS = process.env.APPS ?? 'auth-server,gateway,order,payment,web';
const nx = join('node_modules', '.bin', 'nx');

const setup = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', 'tools/dev-setup/dev-setup.ts'],
  {
    stdio: 'inherit',
  },
);
if (setup.status !== 0) process.exit(setup.status ?? 1);

const child = spawn(
  nx,
  ['run-many', '-t', 'serve', '-p', APPS, '--output-style=stream', ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    detached: true,
    env: { NX_NO_CLOUD: 'true', NX_DAEMON: 'false', ...process.env },
  },
);

let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    process.exit(0);
  }
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000).unref();
  console.log(`\n${signal}: stopping every service...`);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
child.on('exit', (code) => process.exit(stopping ? 0 : (code ?? 1)));
