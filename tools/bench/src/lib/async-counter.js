// Preloaded into a service by `npm run bench:async` (node --require): counts the async
// resources the process creates, by type, and where one promise in ten was created. On
// SIGUSR2 it writes the totals so far to <tmpdir>/acme-async-counts/<pid>.json.
// Plain JavaScript: the services run from dist/ without a TypeScript loader.
'use strict';
const { createHook } = require('node:async_hooks');
const { mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const SITE_SAMPLE = 10;
const types = {};
const promiseSites = {};
let promises = 0;

/** The first frame outside node and this file: `<package> <function>`, or `app <function>`. */
function creationSite() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  const frames = new Error().stack.split('\n').slice(3);
  Error.stackTraceLimit = limit;
  for (const frame of frames) {
    const match = /at (?:async )?(?:(\S+) \()?(.+?):\d+:\d+\)?$/.exec(frame.trim());
    if (!match || match[2].startsWith('node:')) continue;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(match[2]);
    return `${pkg ? pkg[1] : 'app'} ${match[1] ?? '(anonymous)'}`;
  }
  return '(node)';
}

createHook({
  init(_asyncId, type) {
    types[type] = (types[type] ?? 0) + 1;
    if (type === 'PROMISE' && ++promises % SITE_SAMPLE === 0) {
      const site = creationSite();
      promiseSites[site] = (promiseSites[site] ?? 0) + SITE_SAMPLE;
    }
  },
}).enable();

process.on('SIGUSR2', () => {
  const dir = join(tmpdir(), 'acme-async-counts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ types, promiseSites }));
});
