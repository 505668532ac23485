import { fork } from 'node:child_process';
import { once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { mtlsClientOptions, readTlsMaterial } from '@acme/transport';
import type { TlsFiles } from '@acme/transport';
import { median, medianRoundDifference } from './report';
import type { PathName } from './report';

/**
 * A bare pair of node processes, none of the services' code: a client sends envelope-sized
 * messages (about a kilobyte of JSON: a token and a request id) to a server that answers with
 * an order's JSON after 80 awaits, about what a read's handler awaits, over plain TCP or
 * mutual TLS 1.3 with the bench's certificates. What TLS costs them is the least that TLS in
 * the services can cost: `npm run bench:tls` prints it at two paces, with what the token's
 * kilobyte adds, and `npm run bench` at the pace of each of its paths (the floor under its
 * targets).
 */
export type PairTransport = 'plain' | 'tls';

export interface PairPace {
  /** Messages awaiting their answer at any time. */
  inFlight: number;
  /** Milliseconds between an answer and the next message; 0: at once. */
  gapMs: number;
  /** Messages measured, after a warm-up of {@link PAIR_WARM_UP} sent back to back. */
  messages: number;
}

/** Both sides' files: the server's (order's certificate) and the client's (gateway's). */
export interface PairFiles {
  server: TlsFiles;
  client: TlsFiles;
}

/** What one run of the pair sends, and over what. */
export interface PairSetup {
  transport: PairTransport;
  /** Whether the server handles each message inside an AsyncLocalStorage's `run`. */
  context: boolean;
  /** Whether each message carries a token (about a kilobyte), or only its request id. */
  token: boolean;
}

export interface PairRun {
  /** CPU of both processes per message and answer, microseconds. */
  cpuUs: number;
  /** A message's round trip at p50, microseconds. */
  roundTripP50Us: number;
}

/** What the server process is told, as its one argument. */
export interface PairServerArgs {
  transport: PairTransport;
  /** Whether each message is handled inside an AsyncLocalStorage's `run`. */
  context: boolean;
  files: TlsFiles;
}

export const PAIR_AWAITS = 80;
const PAIR_WARM_UP = 1_000;
/** A token's size, not a token: nothing verifies it here. */
const TOKEN = `eyJ${'a'.repeat(1_000)}`;
const SERVER = join(__dirname, 'tls-pair.server.ts');

/** Calls `onLine` with each newline-terminated line that arrives on `socket`. */
export function readLines(socket: Socket, onLine: (line: string) => void): void {
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

const micros = (cpu: NodeJS.CpuUsage) => cpu.user + cpu.system;

/** One run in a server process of its own, gone before the next run starts. */
export async function measurePair(
  { transport, context, token }: PairSetup,
  pace: PairPace,
  files: PairFiles,
): Promise<PairRun> {
  const args: PairServerArgs = { transport, context, files: files.server };
  const meta = (id: number) =>
    token ? { authorization: `Bearer ${TOKEN}`, requestId: `r-${id}` } : { requestId: `r-${id}` };
  const child = fork(SERVER, [JSON.stringify(args)], { execArgv: ['-r', '@swc-node/register'] });
  try {
    const [{ port }] = (await once(child, 'message')) as [{ port: number }];
    const client =
      transport === 'tls'
        ? connectTls({
            ...mtlsClientOptions(readTlsMaterial(files.client), 'order', 'TLSv1.3'),
            port,
            host: '127.0.0.1',
          })
        : connectTcp(port, '127.0.0.1');
    await once(client, transport === 'tls' ? 'secureConnect' : 'connect');
    const serverCpu = async () => {
      const answered = once(child, 'message') as Promise<[{ cpu: NodeJS.CpuUsage }]>;
      child.send('cpu');
      return micros((await answered)[0].cpu);
    };
    // Both processes' CPU so far: the client's now, the server's when it answers.
    const bothCpu = async () => micros(process.cpuUsage()) + (await serverCpu());
    const warmUp = PAIR_WARM_UP;
    const total = warmUp + pace.messages;
    const sentAt = new Float64Array(total + 1);
    const roundTrips: number[] = [];
    let sent = 0;
    const send = () => {
      sent += 1;
      sentAt[sent] = performance.now();
      client.write(`${JSON.stringify({ id: sent, meta: meta(sent) })}\n`);
    };
    const measured = new Promise<number>((resolve, reject) => {
      let answered = 0;
      let warm: Promise<number> | undefined;
      readLines(client, (line) => {
        const { id } = JSON.parse(line) as { id: number };
        answered += 1;
        if (id > warmUp) roundTrips.push((performance.now() - sentAt[id]) * 1000);
        if (answered === warmUp) warm = bothCpu();
        if (answered === total) {
          Promise.all([warm ?? Promise.reject(new Error('no warm-up')), bothCpu()])
            .then(([before, after]) => resolve((after - before) / pace.messages))
            .catch(reject);
        }
        if (sent >= total) return;
        // The warm-up goes back to back; the measured messages at the pace.
        if (sent < warmUp || pace.gapMs === 0) send();
        else setTimeout(send, pace.gapMs);
      });
    });
    for (let i = 0; i < pace.inFlight; i++) send();
    const cpuUs = await measured;
    client.destroy();
    return { cpuUs, roundTripP50Us: median(roundTrips) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
  }
}

/** Two setups of the pair over as many runs each, taking turns so that a slow spell hits both. */
export interface PairComparison {
  base: PairRun[];
  other: PairRun[];
}

export async function comparePairs(
  base: PairSetup,
  other: PairSetup,
  pace: PairPace,
  files: PairFiles,
  runs: number,
): Promise<PairComparison> {
  const result: PairComparison = { base: [], other: [] };
  for (let i = 0; i < runs; i++) {
    const turns = i % 2 ? (['other', 'base'] as const) : (['base', 'other'] as const);
    for (const turn of turns) {
      result[turn].push(await measurePair(turn === 'base' ? base : other, pace, files));
    }
  }
  return result;
}

/** Plain TCP (base) against mutual TLS (other), every message with its token. */
export function compareTransports(
  context: boolean,
  pace: PairPace,
  files: PairFiles,
  runs: number,
): Promise<PairComparison> {
  const setup = (transport: PairTransport) => ({ transport, context, token: true });
  return comparePairs(setup('plain'), setup('tls'), pace, files, runs);
}

/** Medians of each setup, and what the other adds: the median of the runs' differences. */
export function addedBy(
  comparison: PairComparison,
  figure: keyof PairRun,
): { base: number; other: number; added: number } {
  const of = (runs: PairRun[]) => runs.map((run) => run[figure]);
  return {
    base: median(of(comparison.base)),
    other: median(of(comparison.other)),
    added: medianRoundDifference(of(comparison.other), of(comparison.base)),
  };
}

/** A figure of the floor: the bare pair over plain TCP and over mutual TLS, in microseconds. */
export interface FloorFigure {
  plainUs: number;
  tlsUs: number;
  /** What TLS adds, the median of paired runs' differences. */
  addedUs: number;
}

/**
 * The floor under the report's targets: what mutual TLS alone costs the bare pair per hop
 * (one message and its answer), CPU at each path's fixed rate (a message every 1000 / rate
 * ms, each alone), and latency at p50 at the sequential pace (one at a time, at once).
 */
export interface TlsFloor {
  runs: number;
  cpuAtRate: Record<PathName, FloorFigure & { gapMs: number }>;
  sequentialRoundTrip: FloorFigure;
}

export async function measureTlsFloor(
  rates: Record<PathName, number>,
  files: PairFiles,
  settings: { runs: number; durationS: number; minMessages: number; sequentialMessages: number },
): Promise<TlsFloor> {
  const messagesFor = (gapMs: number) =>
    Math.max(settings.minMessages, Math.round((settings.durationS * 1000) / gapMs));
  const figure = (comparison: PairComparison, of: keyof PairRun): FloorFigure => {
    const { base, other, added } = addedBy(comparison, of);
    return { plainUs: base, tlsUs: other, addedUs: added };
  };
  const cpuAt = async (rate: number) => {
    const gapMs = 1000 / rate;
    const pace = { inFlight: 1, gapMs, messages: messagesFor(gapMs) };
    return {
      ...figure(await compareTransports(false, pace, files, settings.runs), 'cpuUs'),
      gapMs,
    };
  };
  const sequential = { inFlight: 1, gapMs: 0, messages: settings.sequentialMessages };
  return {
    runs: settings.runs,
    cpuAtRate: { read: await cpuAt(rates.read), write: await cpuAt(rates.write) },
    sequentialRoundTrip: figure(
      await compareTransports(false, sequential, files, settings.runs),
      'roundTripP50Us',
    ),
  };
}
