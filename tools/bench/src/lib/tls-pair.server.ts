/**
 * The server process of the bare pair (`measurePair` forks it): answers every message, tells
 * its parent its port, and its CPU when asked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer as createTcpServer } from 'node:net';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mtlsServerOptions, readTlsMaterial } from '@acme/transport';
import { PAIR_AWAITS, readLines } from './tls-pair';
import type { PairServerArgs } from './tls-pair';

const ORDER = JSON.stringify({
  id: '0b5c7f3e-8d2a-4f61-9c3e-2a7d5b1e4f90',
  ownerId: 'bench-user',
  status: 'PENDING',
  items: [{ sku: 'book-1', quantity: 1, unitPrice: 2999 }],
  total: 2999,
  currency: 'EUR',
  createdAt: '2026-12-05T12:00:00.000Z',
});

const { transport, context, files } = JSON.parse(process.argv[2] ?? '{}') as PairServerArgs;
const storage = new AsyncLocalStorage<number>();
const answer = async (socket: Socket, id: number) => {
  for (let i = 0; i < PAIR_AWAITS; i++) await Promise.resolve();
  socket.write(`${JSON.stringify({ id, order: ORDER })}\n`);
};
const handle = (socket: Socket) =>
  readLines(socket, (line) => {
    const { id } = JSON.parse(line) as { id: number };
    if (context) void storage.run(id, () => answer(socket, id));
    else void answer(socket, id);
  });
const server =
  transport === 'tls'
    ? createTlsServer(mtlsServerOptions(readTlsMaterial(files), 'TLSv1.3'), handle)
    : createTcpServer(handle);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
