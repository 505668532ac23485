import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

/** Below Linux's ephemeral range (32768-60999 by default) and above the usual fixed service ports. */
const PICK_FROM = 20_000;
const DEFAULT_EPHEMERAL_LOW = 32_768;
/** Ports this process handed out: several are often picked before any of them is bound. */
const handedOut = new Set<number>();

/**
 * A port nobody listens on right now, for a process a test starts later.
 *
 * It is picked at random below the ephemeral range, not by the kernel's `listen(0)`: the
 * kernel hands a freed ephemeral port to the next outgoing connection or `listen(0)` of any
 * process, so between this pick and the app's bind, another suite could take it (seen as
 * `listen EADDRINUSE` on a loaded CI machine). Outgoing connections never use these ports.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralLow();
  if (below - PICK_FROM < 1_000) return kernelPort();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (below - PICK_FROM));
    if (handedOut.has(port)) continue;
    // Claimed before the check, so that concurrent picks cannot both take it.
    handedOut.add(port);
    if (await canBind(port)) return port;
    handedOut.delete(port);
  }
  return kernelPort();
}

/** Whether something accepts TCP connections on the port of 127.0.0.1. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    return Number(low) || DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

function canBind(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function kernelPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
