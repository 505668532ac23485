// How `npm start` knows that the system is ready: it polls each app's probe until all pass at once.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Each app's readiness probe at its development defaults. The gateway's `/readyz` answers 200 only
 * once the issuer's keys are reachable and order and payment answer a ping over mutual TLS (payment
 * through order), so it speaks for the services behind it. Served without the gateway, a TCP
 * service counts as ready when it accepts a connection (which it then logs as a refused handshake).
 */
export const PROBES = {
  'auth-server': 'http://localhost:3001/healthz',
  gateway: 'http://localhost:3000/readyz',
  order: 'tcp://localhost:4001',
  payment: 'tcp://localhost:4002',
  web: 'http://localhost:4200/',
};
const BEHIND_THE_GATEWAY = ['order', 'payment'];

/**
 * The probes to poll for the apps served: those in {@link PROBES}, without the services the
 * gateway's readiness already covers when it is served too.
 *
 * @example
 * probesFor(['gateway', 'order', 'payment']); // { gateway: 'http://localhost:3000/readyz' }
 * @param {readonly string[]} apps
 * @returns {Record<string, string>}
 */
export function probesFor(apps) {
  const covered = apps.includes('gateway') ? BEHIND_THE_GATEWAY : [];
  return Object.fromEntries(
    apps.filter((app) => PROBES[app] && !covered.includes(app)).map((app) => [app, PROBES[app]]),
  );
}

/**
 * Probes one target once: an HTTP URL must answer 2xx, a `tcp://host:port` must accept a connection.
 *
 * @example
 * await probe('http://localhost:3000/readyz'); // undefined when ready, else why not: 'HTTP 503'
 * @param {string} target
 * @returns {Promise<string | undefined>}
 */
export async function probe(target, timeoutMs = 2_000) {
  const url = new URL(target);
  if (url.protocol === 'tcp:') return acceptsConnection(url.hostname, Number(url.port), timeoutMs);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error.cause?.code ?? error.name;
  }
}

function acceptsConnection(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (reason) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done('timeout'));
    socket.once('error', (error) => done(error.code ?? error.message));
  });
}

/**
 * Polls every target until all of them are ready in the same round.
 *
 * @example
 * await waitUntilReady({ gateway: PROBES.gateway }, { onPending: (pending) => console.log(pending) });
 * @param {Record<string, string>} targets app name -> probe
 * @param {{ intervalMs?: number, signal?: AbortSignal, onPending?: (pending: Record<string, string>) => void }} [options]
 *   `onPending` hears, after each round that failed, why each app that is not ready is not.
 * @returns {Promise<void>}
 */
export async function waitUntilReady(targets, { intervalMs = 500, signal, onPending } = {}) {
  for (;;) {
    const results = await Promise.all(
      Object.entries(targets).map(async ([app, target]) => [app, await probe(target)]),
    );
    const pending = Object.fromEntries(results.filter(([, reason]) => reason !== undefined));
    if (Object.keys(pending).length === 0) return;
    onPending?.(pending);
    await sleep(intervalMs, undefined, { signal });
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
