/**
 * What mutual TLS costs a bare pair of node processes, with none of the services' code: the
 * floor under the report's "TLS in the process" (`lib/tls-pair.ts` says what the pair does).
 * Back to back (8 in flight) and one at a time (1 ms apart, as at a fixed rate), each with and
 * without an AsyncLocalStorage around the handling (node 20 runs its hooks on every promise).
 * Prints the CPU of both processes per message and answer, the median of five runs of each,
 * plain and TLS taking turns, what TLS adds as the median of the runs' differences, and the
 * median of each run's p50 round trip. Then what the token's kilobyte adds to a message, over
 * mutual TLS with the AsyncLocalStorage, at both paces: messages with it against messages with
 * only a request id, taking turns the same way. About four minutes.
 *
 *   npm run bench:tls
 */
import { addedBy, comparePairs, compareTransports } from './lib/tls-pair';
import type { PairComparison, PairPace } from './lib/tls-pair';
import { tlsFilesOf, writeMaterial } from './lib/system';

const PACES: readonly (PairPace & { name: string })[] = [
  { name: 'back to back, 8 in flight', inFlight: 8, gapMs: 0, messages: 40_000 },
  { name: 'one at a time, 1 ms apart', inFlight: 1, gapMs: 1, messages: 3_000 },
];
const RUNS = 5;

async function main(): Promise<void> {
  const pki = await writeMaterial();
  const files = { server: tlsFilesOf(pki, 'order'), client: tlsFilesOf(pki, 'gateway') };
  const lines = [
    `Mutual TLS 1.3 against plain TCP between two node ${process.version} processes: CPU of both per message and answer, the median of ${RUNS} runs each, taking turns; TLS adds: the median of their differences.`,
    '',
    '| messages | AsyncLocalStorage | plain TCP us | mutual TLS us | TLS adds us | round trip p50, plain / TLS us |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  // CPU: base, other, what the other adds; the round trips of each.
  const cells = (comparison: PairComparison) => {
    const cpu = addedBy(comparison, 'cpuUs');
    const roundTrip = addedBy(comparison, 'roundTripP50Us');
    return [
      ...[cpu.base, cpu.other, cpu.added].map((us) => us.toFixed(1)),
      `${roundTrip.base.toFixed(1)} / ${roundTrip.other.toFixed(1)}`,
    ].join(' | ');
  };
  try {
    for (const pace of PACES) {
      for (const context of [false, true]) {
        const comparison = await compareTransports(context, pace, files, RUNS);
        lines.push(`| ${pace.name} | ${context ? 'yes' : 'no'} | ${cells(comparison)} |`);
      }
    }
    lines.push(
      '',
      `The token's kilobyte (\`Bearer\` and a JWT's size) against a message with only its request id, over mutual TLS, with the AsyncLocalStorage: the same measure.`,
      '',
      '| messages | without the token us | with it us | the token adds us | round trip p50, without / with us |',
      '| --- | --- | --- | --- | --- |',
    );
    const overTls = (token: boolean) => ({ transport: 'tls' as const, context: true, token });
    for (const pace of PACES) {
      const comparison = await comparePairs(overTls(false), overTls(true), pace, files, RUNS);
      lines.push(`| ${pace.name} | ${cells(comparison)} |`);
    }
  } finally {
    pki.remove();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
