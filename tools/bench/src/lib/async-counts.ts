import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Preload it into a service (`node --require`) to count its async resources. */
export const ASYNC_COUNTER = join(__dirname, 'async-counter.js');
/** Where the counter writes `<pid>.json` on SIGUSR2. */
export const ASYNC_COUNTS_DIR = join(tmpdir(), 'acme-async-counts');

/** What `async-counter.js` writes: async resources created so far, by type; promises, by creation site. */
export interface AsyncCounts {
  types: Record<string, number>;
  promiseSites: Record<string, number>;
}

/** What was created between two snapshots of one process, divided by the requests served. */
export function countsPerRequest(
  before: AsyncCounts,
  after: AsyncCounts,
  requests: number,
): AsyncCounts {
  const per = (from: Record<string, number>, to: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(to)
        .map(([key, total]) => [key, (total - (from[key] ?? 0)) / requests] as const)
        .filter(([, value]) => value > 0),
    );
  return {
    types: per(before.types, after.types),
    promiseSites: per(before.promiseSites, after.promiseSites),
  };
}

/**
 * One service's counts per request, secure beside insecure, as markdown: every resource type,
 * then the promise creation sites whose counts differ most between the two.
 */
export function asyncCountsTable(
  title: string,
  secure: AsyncCounts,
  insecure: AsyncCounts,
  siteRows: number,
): string {
  const cell = (value: number | undefined) => (value ?? 0).toFixed(1);
  const rows = (
    secureCounts: Record<string, number>,
    insecureCounts: Record<string, number>,
    order: (a: string, b: string) => number,
  ) =>
    [...new Set([...Object.keys(secureCounts), ...Object.keys(insecureCounts)])]
      .sort(order)
      .map((key) => `| ${key} | ${cell(secureCounts[key])} | ${cell(insecureCounts[key])} |`);
  const total = (counts: Record<string, number>) =>
    Object.values(counts).reduce((sum, value) => sum + value, 0);
  const byTotal = (counts: AsyncCounts) => (a: string, b: string) =>
    (counts.types[b] ?? 0) - (counts.types[a] ?? 0) || a.localeCompare(b);
  const difference = (site: string) =>
    Math.abs((secure.promiseSites[site] ?? 0) - (insecure.promiseSites[site] ?? 0));
  const sites = rows(
    secure.promiseSites,
    insecure.promiseSites,
    (a, b) => difference(b) - difference(a) || a.localeCompare(b),
  )
    .filter((row) => !row.endsWith('| 0.0 | 0.0 |'))
    .slice(0, siteRows);
  return [
    `### ${title}`,
    '',
    '| async resource | secure | insecure |',
    '| --- | --- | --- |',
    ...rows(secure.types, insecure.types, byTotal(secure)),
    `| all | ${cell(total(secure.types))} | ${cell(total(insecure.types))} |`,
    '',
    '| promises created in (one in ten sampled) | secure | insecure |',
    '| --- | --- | --- |',
    ...sites,
    '',
  ].join('\n');
}
