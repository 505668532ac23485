/**
 * The instructions security adds to a request, counted, not timed: each service of one path
 * runs under valgrind's callgrind, in the secure and then the insecure system, and after a
 * warm-up of sequential requests the main thread's instructions over the measured ones are
 * divided by their number. A count does not move with the machine's other load, its caches or
 * its clock, as CPU time does; it leaves out what the kernel spends (syscalls, TCP) and time
 * spent waiting on memory. V8's generated code is named from node's `--perf-basic-prof` map.
 * Hooks, hashing, encryption, regular expressions and JSON count about the same from run to
 * run; a thread's total does not, as it moves with what V8 has optimized.
 *
 *   npm run bench:instructions -- --path read    # or --path write; 8 min for reads, 20 for writes
 *
 * Needs valgrind (`apt-get install valgrind`), the production builds in dist/apps (as
 * `bench:async`), PostgreSQL and Linux. Under valgrind a service runs about 50 times slower:
 * the figures are counts, never times.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { functionCosts, PerfMap, totalInstructions } from './lib/callgrind';
import type { FunctionCost } from './lib/callgrind';
import {
  benchUserToken,
  BenchSystem,
  DATABASE_URL,
  pathRequests,
  startBenchIssuer,
  writeMaterial,
} from './lib/system';
import type { ServiceName } from './lib/system';
import type { RequestSpec } from './lib/load';

const WORKSPACE = resolve(__dirname, '../../..');
const SERVICES_ON = { read: ['gateway', 'order'], write: ['gateway', 'order', 'payment'] } as const;
const MODES = ['secure', 'insecure'] as const;
type Mode = (typeof MODES)[number];
const ROWS = 20;
/** Where node writes `--perf-basic-prof`'s map, whatever TMPDIR says (V8 fixes the path). */
const PERF_MAP_DIR = '/tmp';

/**
 * Where security's instructions go, by kind. Node 20's promise hooks are counted with what
 * they call (the megamorphic property lookups on each promise, and any young-generation
 * scavenge an allocation in them starts, which moves from run to run: compare their own
 * functions for a change); the rest by their own code.
 */
const GROUPS: { name: string; match: RegExp; cost: keyof FunctionCost }[] = [
  {
    name: "node 20's promise hooks (the AsyncLocalStorage), with what they call, scavenges they start included",
    match: /^node:internal\/async_hooks promise(Init|Before|After|Resolve)Hook$/,
    cost: 'inclusive',
  },
  { name: 'SHA-256 (the token digest)', match: /^sha256_/, cost: 'self' },
  { name: 'AES-GCM (TLS records)', match: /aesni|ghash|gcm/i, cost: 'self' },
  { name: 'regular expressions', match: /^RegExp:/, cost: 'self' },
  // Node 24's names start with the return type: `bool v8::internal::JsonStringifier::...`.
  { name: 'JSON (V8)', match: /(^|\s)v8::internal::Json/, cost: 'self' },
  {
    name: "V8's young-generation garbage collection",
    match: /Scaveng|EvacuationAllocator|SemiSpace|PretenuringHandler|Heap::OnMoveEvent/,
    cost: 'self',
  },
];

interface Counts {
  /** Main thread, per request. */
  main: number;
  /** V8's compiler and garbage-collector threads, node's thread pool: per request. */
  others: number;
  /** The main thread's functions, per request. */
  functions: Map<string, FunctionCost>;
}

/** Valgrind's gdbserver names its pipes after $USER and $HOST: the same for the controller. */
const CONTROL_ENV = { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1' };

function callgrind(out: string, service: ServiceName): string[] {
  return [
    'valgrind',
    '--tool=callgrind',
    '--separate-threads=yes',
    `--vgdb-prefix=${join(out, 'vgdb')}`,
    `--callgrind-out-file=${join(out, service)}`,
  ];
}

function control(out: string, action: '--zero' | '--dump', pid: number): void {
  execFileSync('callgrind_control', [`--vgdb-prefix=${join(out, 'vgdb')}`, action, String(pid)], {
    env: CONTROL_ENV,
    stdio: 'ignore',
  });
}

async function sequentially(url: string, spec: RequestSpec, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(url + spec.nextPath(), {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${spec.method} answered ${response.status}`);
  }
}

/** The dump of `service`'s first part, thread by thread (`<service>.1-01` is the main thread). */
async function readDump(out: string, service: ServiceName, pid: number, requests: number) {
  const prefix = `${service}.1-`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const threads = readdirSync(out).filter((file) => file.startsWith(prefix));
    if (threads.includes(`${prefix}01`)) {
      const texts = threads.map((file) => readFileSync(join(out, file), 'utf8'));
      const main = readFileSync(join(out, `${prefix}01`), 'utf8');
      const all = texts.reduce((sum, text) => sum + totalInstructions(text), 0);
      const functions = functionCosts(
        main,
        new PerfMap(readFileSync(join(PERF_MAP_DIR, `perf-${pid}.map`), 'utf8')),
      );
      for (const cost of functions.values()) {
        cost.self /= requests;
        cost.inclusive /= requests;
      }
      return {
        main: totalInstructions(main) / requests,
        others: (all - totalInstructions(main)) / requests,
        functions,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`callgrind wrote no dump of ${service}`);
}

async function count(
  mode: Mode,
  path: 'read' | 'write',
  options: { warmUp: number; requests: number },
): Promise<Partial<Record<ServiceName, Counts>>> {
  const services = SERVICES_ON[path];
  const out = mkdtempSync(join(tmpdir(), `acme-callgrind-${mode}-`));
  const material = await writeMaterial();
  const issuer = await startBenchIssuer(material);
  const logDir = join(WORKSPACE, 'dist/bench-instructions/logs');
  mkdirSync(logDir, { recursive: true });
  const bench = new BenchSystem({
    mode,
    workspace: WORKSPACE,
    material,
    logDir,
    issuer: issuer.issuer,
    databaseUrl: DATABASE_URL,
    runId: `instr${Date.now() % 100_000}`,
    // The perf map names V8's code; the log the flag also starts goes to a temporary file, not
    // the working directory.
    nodeFlags: ['--perf-basic-prof', '--no-logfile-per-isolate', '--logfile=+'],
    wrapper: Object.fromEntries(services.map((service) => [service, callgrind(out, service)])),
    // Three services starting under valgrind on two cores take minutes, not seconds.
    startTimeoutMs: 10 * 60_000,
  });
  const pids: number[] = [];
  try {
    process.stderr.write(`[instructions] ${mode}: starting under valgrind\n`);
    await bench.start();
    pids.push(...services.map((service) => bench.pid(service)));
    const total = options.warmUp + options.requests;
    const ids = await bench.seedOrdersFor(path, total);
    const spec = pathRequests(path, benchUserToken(issuer), ids);
    process.stderr.write(`[instructions] ${mode}: ${options.warmUp} requests to warm up\n`);
    await sequentially(bench.gatewayUrl, spec, options.warmUp);
    for (const pid of pids) control(out, '--zero', pid);
    process.stderr.write(`[instructions] ${mode}: ${options.requests} requests counted\n`);
    await sequentially(bench.gatewayUrl, spec, options.requests);
    for (const pid of pids) control(out, '--dump', pid);
    const counts: Partial<Record<ServiceName, Counts>> = {};
    for (const service of services) {
      counts[service] = await readDump(out, service, bench.pid(service), options.requests);
    }
    return counts;
  } finally {
    await bench.stop();
    await bench.dropSchemas();
    await issuer.stop();
    material.remove();
    rmSync(out, { recursive: true, force: true });
    for (const pid of pids) rmSync(join(PERF_MAP_DIR, `perf-${pid}.map`), { force: true });
  }
}

const thousands = (value: number) => (value / 1000).toFixed(1);

function report(
  path: string,
  service: ServiceName,
  secure: Counts,
  insecure: Counts,
  requests: number,
): string {
  const lines = [
    `### ${path}, ${service}: thousands of instructions per request (${requests} counted)`,
    '',
    '| thread | secure | insecure | security adds |',
    '| --- | --- | --- | --- |',
    `| main | ${thousands(secure.main)} | ${thousands(insecure.main)} | ${thousands(secure.main - insecure.main)} |`,
    `| the others (V8's compiler and GC, node's pool) | ${thousands(secure.others)} | ${thousands(insecure.others)} | ${thousands(secure.others - insecure.others)} |`,
    '',
    '| what security adds on the main thread, by kind | thousands |',
    '| --- | --- |',
  ];
  const sum = (counts: Counts, group: (typeof GROUPS)[number]) =>
    [...counts.functions]
      .filter(([name]) => group.match.test(name))
      .reduce((total, [, cost]) => total + cost[group.cost], 0);
  for (const group of GROUPS) {
    lines.push(`| ${group.name} | ${thousands(sum(secure, group) - sum(insecure, group))} |`);
  }
  const added = [...new Set([...secure.functions.keys(), ...insecure.functions.keys()])]
    .map((name) => ({
      name,
      secure: secure.functions.get(name)?.self ?? 0,
      insecure: insecure.functions.get(name)?.self ?? 0,
    }))
    .sort((a, b) => b.secure - b.insecure - (a.secure - a.insecure))
    .slice(0, ROWS);
  lines.push(
    '',
    '| own code of | security adds | secure | insecure |',
    '| --- | --- | --- | --- |',
    ...added.map(
      (row) =>
        `| ${row.name.replaceAll('|', '\\|')} | ${thousands(row.secure - row.insecure)} | ${thousands(row.secure)} | ${thousands(row.insecure)} |`,
    ),
    '',
  );
  return lines.join('\n');
}

/** Valgrind and its controller, or an error that says how to get them. */
function assertCallgrind(): void {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'counting instructions needs valgrind and its callgrind_control: install it (Debian, Ubuntu: apt-get install valgrind)',
    );
  }
}

async function main(): Promise<void> {
  assertCallgrind();
  const { values } = parseArgs({
    options: {
      path: { type: 'string', default: 'read' },
      'warm-up': { type: 'string', default: '1500' },
      requests: { type: 'string', default: '500' },
    },
  });
  const path = values.path;
  if (path !== 'read' && path !== 'write') {
    throw new Error('usage: instructions.ts [--path read|write] [--warm-up 1500] [--requests 500]');
  }
  const options = { warmUp: Number(values['warm-up']), requests: Number(values.requests) };
  const counted: Partial<Record<Mode, Partial<Record<ServiceName, Counts>>>> = {};
  for (const mode of MODES) counted[mode] = await count(mode, path, options);
  process.stdout.write(
    `## Instructions per request, ${path}, sequential, counted by callgrind\n\n` +
      SERVICES_ON[path]
        .map((service) =>
          report(
            path,
            service,
            counted.secure?.[service] as Counts,
            counted.insecure?.[service] as Counts,
            options.requests,
          ),
        )
        .join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
