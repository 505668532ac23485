/**
 * What mutual TLS costs a bare pair of node processes, with none of the services' code: the
 * floor under the report's "TLS in the process". A client sends envelope-sized messages (about
 * a kilobyte of JSON: a token and a request id) to a server that answers with an order's JSON
 * after 80 awaits, about what a read's handler awaits; over plain TCP and over mutual TLS 1.3
 * with the bench's certificates, back to back (8 in flight) and one at a time (1 ms apart, as
 * at a fixed rate), each with and without an AsyncLocalStorage around the handling (node 20
 * runs its hooks on every promise). Prints the CPU of both processes per message and answer,
 * the median of five runs of each, plain and TLS taking turns, and what TLS adds as the median
 * of the runs' differences. About two and a half minutes.
 *
 *   npm run bench:tls
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import { connect as connectTcp, createServer as createTcpServer } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import { mtlsClientOptions, mtlsServerOptions, readTlsMaterial } from '@acme/transport';
import type { TlsFiles } from '@acme/transport';
import { median, medianRoundDifference } from './lib/report';
import { tlsFilesOf, writeMaterial } from './lib/system';

type Transport = 'plain' | 'tls';

interface Pace {
  name: string;
  inFlight: number;
  /** Milliseconds between an answer and the next message; 0: at once. */
  gapMs: number;
  messages: number;
}

const PACES: readonly Pace[] = [
  { name: 'back to back, 8 in flight', inFlight: 8, gapMs: 0, messages: 40_000 },
  { name: 'one at a time, 1 ms apart', inFlight: 1, gapMs: 1, messages: 3_000 },
];
const WARM_UP = 1_000;
const RUNS = 5;
const AWAITS = 80;
const ORDER = JSON.stringify({
  id: '0b5c7f3e-8d2a-4f61-9c3e-2a7d5b1e4f90',
  ownerId: 'bench-user',
  status: 'PENDING',
  items: [{ sku: 'book-1', quantity: 1, unitPrice: 2999 }],
  total: 2999,
  currency: 'EUR',
  createdAt: '2026-12-05T12:00:00.000Z',
});

/** Both sides' files: the server's (order's certificate) and the client's (gateway's). */
interface Pair {
  server: TlsFiles;
  client: TlsFiles;
}

interface ServerArgs {
  transport: Transport;
  context: boolean;
  files: TlsFiles;
}

/** Calls `onLine` with each newline-terminated line that arrives on `socket`. */
function readLines(socket: Socket, onLine: (line: string) => void): void {
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  let buffered = '';
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      onLine(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
}

/** The child: answers every message, tells its parent its port, and its CPU when asked. */
function serve({ transport, context, files }: ServerArgs): void {
  const storage = new AsyncLocalStorage<number>();
  const answer = async (socket: Socket, id: number) => {
    for (let i = 0; i < AWAITS; i++) await Promise.resolve();
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
}

function cpuOf(child: ChildProcess): Promise<NodeJS.CpuUsage> {
  const answered = once(child, 'message') as Promise<[{ cpu: NodeJS.CpuUsage }]>;
  child.send('cpu');
  return answered.then(([{ cpu }]) => cpu);
}

const micros = (cpu: NodeJS.CpuUsage) => cpu.user + cpu.system;

/** One run: both processes' CPU per message and answer, in microseconds, after a warm-up. */
async function run(
  transport: Transport,
  context: boolean,
  pace: Pace,
  pair: Pair,
  token: string,
): Promise<number> {
  const args: ServerArgs = { transport, context, files: pair.server };
  const child = fork(__filename, ['--serve', JSON.stringify(args)], {
    execArgv: ['-r', '@swc-node/register'],
  });
  try {
    const [{ port }] = (await once(child, 'message')) as [{ port: number }];
    const client =
      transport === 'tls'
        ? connectTls({
            ...mtlsClientOptions(readTlsMaterial(pair.client), 'order', 'TLSv1.3'),
            port,
            host: '127.0.0.1',
          })
        : connectTcp(port, '127.0.0.1');
    await once(client, transport === 'tls' ? 'secureConnect' : 'connect');
    let sent = 0;
    const send = () => {
      sent += 1;
      client.write(
        `${JSON.stringify({ id: sent, meta: { authorization: `Bearer ${token}`, requestId: `r-${sent}` } })}\n`,
      );
    };
    // Both processes' CPU so far, in microseconds: the client's now, the server's when it answers.
    const bothCpu = async () => {
      const clientCpu = micros(process.cpuUsage());
      return clientCpu + micros(await cpuOf(child));
    };
    const total = WARM_UP + pace.messages;
    const measured = new Promise<number>((resolve, reject) => {
      let answered = 0;
      let warm: Promise<number> | undefined;
      readLines(client, () => {
        answered += 1;
        if (answered === WARM_UP) warm = bothCpu();
        if (answered === total) {
          Promise.all([warm ?? Promise.reject(new Error('no warm-up')), bothCpu()])
            .then(([before, after]) => resolve((after - before) / pace.messages))
            .catch(reject);
        }
        if (sent < total) {
          if (pace.gapMs > 0) setTimeout(send, pace.gapMs);
          else send();
        }
      });
    });
    for (let i = 0; i < pace.inFlight; i++) send();
    const us = await measured;
    client.destroy();
    return us;
  } finally {
    // Gone before the next run starts, so that it never shares the machine with this one.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
  }
}

async function main(): Promise<void> {
  const pki = await writeMaterial();
  const pair: Pair = { server: tlsFilesOf(pki, 'order'), client: tlsFilesOf(pki, 'gateway') };
  // A token's size, not a token: nothing verifies it here.
  const token = `eyJ${'a'.repeat(1_000)}`;
  const lines = [
    `Mutual TLS 1.3 against plain TCP between two node ${process.version} processes: CPU of both per message and answer, the median of ${RUNS} runs each, taking turns; TLS adds: the median of their differences.`,
    '',
    '| messages | AsyncLocalStorage | plain TCP us | mutual TLS us | TLS adds us |',
    '| --- | --- | --- | --- | --- |',
  ];
  try {
    for (const pace of PACES) {
      for (const context of [false, true]) {
        // Paired: plain and TLS take turns, so a slow spell of the machine hits both.
        const runs: Record<Transport, number[]> = { plain: [], tls: [] };
        for (let i = 0; i < RUNS; i++) {
          const turns = i % 2 ? (['tls', 'plain'] as const) : (['plain', 'tls'] as const);
          for (const transport of turns) {
            runs[transport].push(await run(transport, context, pace, pair, token));
          }
        }
        const cells = [
          median(runs.plain),
          median(runs.tls),
          medianRoundDifference(runs.tls, runs.plain),
        ].map((us) => us.toFixed(1));
        lines.push(`| ${pace.name} | ${context ? 'yes' : 'no'} | ${cells.join(' | ')} |`);
      }
    }
  } finally {
    pki.remove();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[2] === '--serve') {
  serve(JSON.parse(process.argv[3] ?? '{}') as ServerArgs);
} else {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
