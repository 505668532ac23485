import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { freePort, isListening } from './ports';

const ephemeralLow = Number(
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
);

/** A server of this test on a port in freePort's range, which freePort itself never handed out. */
async function listenInRange(): Promise<{ server: Server; port: number }> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * (ephemeralLow - 20_000));
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return { server, port };
  }
}

describe('freePort', () => {
  // Cases that steer the pick run first, while few ports are handed out.
  afterEach(() => jest.restoreAllMocks());

  it('passes over a port something listens on', async () => {
    const { server, port: taken } = await listenInRange();
    // The first pick lands on the taken port, the second on the one after it.
    const span = ephemeralLow - 20_000;
    jest
      .spyOn(Math, 'random')
      .mockReturnValueOnce((taken - 20_000 + 0.5) / span)
      .mockReturnValueOnce((taken - 20_000 + 1.5) / span);
    try {
      expect(await freePort()).toBe(taken + 1);
    } finally {
      server.close();
    }
  });

  it('never hands out the same port twice, even before it is bound', async () => {
    const first = await freePort();
    const span = ephemeralLow - 20_000;
    jest
      .spyOn(Math, 'random')
      .mockReturnValueOnce((first - 20_000 + 0.5) / span)
      .mockReturnValueOnce((first - 20_000 + 2.5) / span);
    expect(await freePort()).toBe(first + 2);
  });

  it('hands out distinct ports below the ephemeral range, where outgoing connections never land', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(ephemeralLow);
      expect(await isListening(port)).toBe(false);
    }
  });
});
