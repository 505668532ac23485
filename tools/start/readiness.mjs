// How `npm start` knows that the system is ready: it polls each app's probes until all pass.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as connectTls } from 'node:tls';

/**
 * Each app's probes at its development defaults, in two stages. First every app listens: a plain
 * connection to an HTTP port, a mutual-TLS handshake with a service (a bare connection would be
 * logged as a refused handshake). Then the HTTP apps answer their readiness probe, except the
 * gateway's: its `/readyz` covers only what it needs to serve at all (the issuer's keys, and Redis
 * once when it has one), so it asks `/healthz/dependencies` instead (loopback is in the default
 * admin network), which answers 200 only once order and payment answer a ping over mutual TLS.
 * Asking it only once they listen keeps its log free of start-up failures.
 */
export const PROBES = {
  'auth-server': { listening: 'tcp://localhost:3001', ready: 'http://localhost:3001/healthz' },
  gateway: {
    listening: 'tcp://localhost:3000',
    ready: 'http://localhost:3000/healthz/dependencies',
  },
  order: { listening: 'tls://localhost:4001' },
  payment: { listening: 'tls://localhost:4002' },
  web: { listening: 'tcp://localhost:4200', ready: 'http://localhost:4200/' },
};

/**
 * The stages of probes to poll for the apps served, each an app -> probe map; apps without an
 * entry in {@link PROBES} are not waited for.
 *
 * @example
 * probesFor(['gateway', 'order']);
 * // [{ gateway: 'tcp://localhost:3000', order: 'tls://localhost:4001' }, { gateway: 'http://localhost:3000/healthz/dependencies' }]
 * @param {readonly string[]} apps
 * @returns {Record<string, string>[]}
 */
export function probesFor(apps) {
  const known = apps.filter((app) => PROBES[app]);
  const stage = (kind) =>
    Object.fromEntries(
      known.filter((app) => PROBES[app][kind]).map((app) => [app, PROBES[app][kind]]),
    );
  return [stage('listening'), stage('ready')];
}

/**
 * Probes one target once: an HTTP URL must answer 2xx, a `tcp://host:port` must accept a
 * connection, a `tls://host:port` must complete a handshake with `tls` (CA, certificate, key).
 *
 * @example
 * await probe('http://localhost:3000/readyz'); // undefined when ready, else why not: 'HTTP 503'
 * @param {string} target
 * @param {{ timeoutMs?: number, tls?: import('node:tls').ConnectionOptions }} [options]
 * @returns {Promise<string | undefined>}
 */
export async function probe(target, { timeoutMs = 5_000, tls } = {}) {
  const url = new URL(target);
  const port = Number(url.port);
  if (url.protocol === 'tcp:')
    return opens(connect({ host: url.hostname, port, timeout: timeoutMs }), 'connect');
  if (url.protocol === 'tls:')
    return acceptsHandshake(connectTls({ ...tls, host: url.hostname, port, timeout: timeoutMs }));
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error.cause?.code ?? error.name;
  }
}

/** Resolves to undefined once `socket` emits `event`, else to why not; closes the socket. */
function opens(socket, event) {
  return new Promise((resolve) => {
    const done = (reason) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once(event, () => done(undefined));
    socket.once('timeout', () => done('timeout'));
    socket.once('error', (error) => done(error.code ?? error.message));
  });
}

/**
 * Resolves to undefined once the server has accepted the handshake, else to why not. In TLS 1.3
 * the client is done before the server has checked its certificate; the server's session ticket,
 * sent after that check, is the proof. Then it closes politely: a reset would be logged by the
 * service as a refused handshake.
 */
function acceptsHandshake(socket) {
  return new Promise((resolve) => {
    let failure = 'handshake refused';
    socket.once('session', () => {
      failure = undefined;
      socket.end();
    });
    socket.once('error', (error) => (failure = error.code ?? error.message));
    socket.once('timeout', () => {
      failure = 'timeout';
      socket.destroy();
    });
    socket.once('close', () => resolve(failure));
    socket.resume();
  });
}

/**
 * Polls stage after stage; a stage is passed once every probe of it passes in the same round.
 *
 * @example
 * await waitUntilReady(probesFor(apps), { onPending: (pending) => console.log(pending) });
 * @param {Record<string, string>[]} stages app name -> probe, per stage
 * @param {{ intervalMs?: number, signal?: AbortSignal, tls?: import('node:tls').ConnectionOptions, onPending?: (pending: Record<string, string>) => void }} [options]
 *   `tls` is for `tls://` probes; `onPending` hears, after each round that failed, why each app
 *   that is not ready is not.
 * @returns {Promise<void>}
 */
export async function waitUntilReady(stages, { intervalMs = 500, signal, tls, onPending } = {}) {
  for (const targets of stages) {
    for (;;) {
      const results = await Promise.all(
        Object.entries(targets).map(async ([app, target]) => [app, await probe(target, { tls })]),
      );
      const pending = Object.fromEntries(results.filter(([, reason]) => reason !== undefined));
      if (Object.keys(pending).length === 0) break;
      onPending?.(pending);
      await sleep(intervalMs, undefined, { signal });
    }
  }
}

/**
 * The one line `npm start` prints once every app is ready: where to go and what to try next.
 *
 * @example
 * readyLine(['auth-server', 'gateway', 'order', 'payment', 'web']);
 * @param {readonly string[]} apps
 * @returns {string}
 */
export function readyLine(apps) {
  const where = [];
  if (apps.includes('web')) where.push('web http://localhost:4200 (sign in as alice / alice)');
  if (apps.includes('gateway')) where.push('API http://localhost:3000/api (OpenAPI at /docs)');
  if (apps.includes('auth-server')) where.push('issuer http://localhost:3001');
  const next =
    apps.includes('gateway') && apps.includes('auth-server')
      ? '. Next, in another terminal: npm run -s token -- --user alice'
      : '';
  return `Ready (${apps.join(', ')})${where.length > 0 ? `: ${where.join(', ')}` : ''}${next}`;
}
