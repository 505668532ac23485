import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { parseEnv } from './env';
import { createRootLogger, logFormatOf, loggingEnv, prettyDestination } from './logging.module';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('LOG_FORMAT', () => {
  it.each([
    [{}, 'pretty'],
    [{ NODE_ENV: 'development' }, 'pretty'],
    [{ NODE_ENV: 'production' }, 'json'],
    [{ NODE_ENV: 'test' }, 'json'],
    [{ NODE_ENV: 'benchmark' }, 'json'],
    [{ NODE_ENV: 'development', LOG_FORMAT: 'json' }, 'json'],
    [{ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }, 'pretty'],
  ] as const)('with %j is %s', (config, format) => {
    expect(logFormatOf(config)).toBe(format);
  });

  it('refuses any other format, naming the key', () => {
    expect(() => parseEnv(z.object(loggingEnv()), { LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});

describe(prettyDestination.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pretty-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one readable line per entry, naming the service, with credentials redacted', async () => {
    const file = join(dir, 'gateway.log');
    // pino's transport: a thread-stream, which ends like any Writable once the worker has written.
    const destination = prettyDestination(file) as ReturnType<typeof prettyDestination> & Writable;
    const closed = new Promise((resolve) => destination.on('close', resolve));
    const logger = createRootLogger('gateway', 'info', destination);
    logger.info({ context: 'Bootstrap' }, 'listening on http://127.0.0.1:3000');
    logger.warn({ req: { headers: { authorization: `Bearer ${JWT}` } } }, `refused Bearer ${JWT}`);
    destination.end();
    await closed;

    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway \[Bootstrap\]: listening on http:\/\/127\.0\.0\.1:3000$/,
    );
    expect(lines[1]).toMatch(/^\[[\d:.]+\] WARN: gateway: refused Bearer \[redacted\] \{/);
    expect(lines.join('\n')).not.toContain(JWT);
  });
});
