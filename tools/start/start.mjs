// npm start: creates the dev PKI if missing, then serves every app with Nx, and prints one line
// once every app answers its probes. Nx runs in its own process group so that Ctrl-C or a
// SIGTERM to npm stops nx and every server it started: no orphaned processes.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probesFor, readyLine, waitUntilReady } from './readiness.mjs';

const APPS = process.env.APPS ?? 'auth-server,gateway,order,payment,web';
/** The first build takes a while; past this, say which app is still not ready and why. */
const SLOW_START_MS = 120_000;
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

const apps = APPS.split(',').map((app) => app.trim());
const polling = new AbortController();
const startedAt = Date.now();
let slowStartReported = false;
waitUntilReady(probesFor(apps), {
  signal: polling.signal,
  // The services' probe is a mutual-TLS handshake: any certificate of the dev CA completes it.
  tls: {
    ca: readFileSync('.dev/certs/ca.crt'),
    cert: readFileSync('.dev/certs/gateway.crt'),
    key: readFileSync('.dev/certs/gateway.key'),
  },
  onPending: (pending) => {
    if (slowStartReported || Date.now() - startedAt < SLOW_START_MS) return;
    slowStartReported = true;
    const reasons = Object.entries(pending).map(([app, reason]) => `${app} (${reason})`);
    console.log(`still waiting for ${reasons.join(', ')}`);
  },
}).then(
  () => console.log(readyLine(apps)),
  () => {
    // stopped before every app was ready
  },
);

let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  polling.abort();
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
