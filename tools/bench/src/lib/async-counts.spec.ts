import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ASYNC_COUNTER,
  ASYNC_COUNTS_DIR,
  asyncCountsTable,
  countsPerRequest,
} from './async-counts';
import type { AsyncCounts } from './async-counts';

describe(countsPerRequest.name, () => {
  it('divides what was created between the snapshots by the requests, leaving out what was not', () => {
    const before: AsyncCounts = {
      types: { PROMISE: 10, Timeout: 3 },
      promiseSites: { 'app a': 10 },
    };
    const after: AsyncCounts = {
      types: { PROMISE: 210, Timeout: 3, TickObject: 50 },
      promiseSites: { 'app a': 110, 'pg query': 100 },
    };

    expect(countsPerRequest(before, after, 50)).toEqual({
      types: { PROMISE: 4, TickObject: 1 },
      promiseSites: { 'app a': 2, 'pg query': 2 },
    });
  });
});

describe(asyncCountsTable.name, () => {
  it('puts secure beside insecure, types by count, then the sites that differ most', () => {
    const secure: AsyncCounts = {
      types: { PROMISE: 80, TickObject: 4 },
      promiseSites: { 'app guard': 3, 'pg query': 10, 'app handler': 1 },
    };
    const insecure: AsyncCounts = {
      types: { PROMISE: 70, TickObject: 4, Timeout: 1 },
      promiseSites: { 'pg query': 10, 'app handler': 2 },
    };

    expect(asyncCountsTable('read, order', secure, insecure, 2).split('\n')).toEqual([
      '### read, order',
      '',
      '| async resource | secure | insecure |',
      '| --- | --- | --- |',
      '| PROMISE | 80.0 | 70.0 |',
      '| TickObject | 4.0 | 4.0 |',
      '| Timeout | 0.0 | 1.0 |',
      '| all | 84.0 | 75.0 |',
      '',
      '| promises created in (one in ten sampled) | secure | insecure |',
      '| --- | --- | --- |',
      '| app guard | 3.0 | 0.0 |',
      '| app handler | 1.0 | 2.0 |',
      '',
    ]);
  });
});

describe('async-counter.js', () => {
  afterAll(() => rmSync(ASYNC_COUNTS_DIR, { recursive: true, force: true }));

  it('counts the async resources of a process it is preloaded into, and where its promises come from', () => {
    // The counts are written by the signal's handler, on a later turn of the event loop: the
    // child waits for its file before it exits. Its pid goes out as a string: console.log
    // would colour a number under FORCE_COLOR, which nx sets.
    const script = `
      const { existsSync } = require('node:fs');
      const file = require('node:path').join(${JSON.stringify(ASYNC_COUNTS_DIR)}, process.pid + '.json');
      async function work() { await null; }
      Promise.all(Array.from({ length: 100 }, work)).then(() => {
        process.kill(process.pid, 'SIGUSR2');
        const written = setInterval(() => {
          if (existsSync(file)) { clearInterval(written); process.stdout.write(String(process.pid)); }
        }, 5);
      });
    `;
    const pid = execFileSync(process.execPath, ['--require', ASYNC_COUNTER, '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    }).trim();

    const counts = JSON.parse(
      readFileSync(join(ASYNC_COUNTS_DIR, `${pid}.json`), 'utf8'),
    ) as AsyncCounts;
    expect(counts.types['PROMISE']).toBeGreaterThanOrEqual(200);
    expect(counts.promiseSites['app work']).toBeGreaterThanOrEqual(50);
  });
});
