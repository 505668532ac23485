import { Writable } from 'node:stream';
import { scrubSecrets } from './log-redaction';
import { createRootLogger } from './logging.module';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe(scrubSecrets.name, () => {
  it.each([
    [`Authorization: Bearer ${JWT}`, 'Authorization: Bearer [redacted]'],
    ['basic dXNlcjpwYXNz failed', 'basic [redacted] failed'],
    [`token ${JWT} expired`, 'token [redacted-jwt] expired'],
    ['GET /cb?code=abc123&state=xyz', 'GET /cb?code=[redacted]&state=xyz'],
    ['/login?password=hunter2&user=bob', '/login?password=[redacted]&user=bob'],
    ['body {"user":"bob","password":"hunter2"}', 'body {"user":"bob","password":"[redacted]"}'],
    ['{"client_secret": "s3cr3t\\"x"}', '{"client_secret":"[redacted]"}'],
  ])('scrubs %s', (text, expected) => {
    expect(scrubSecrets(text)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('order 4f1c paid by alice')).toBe('order 4f1c paid by alice');
  });
});

describe(createRootLogger.name, () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
      done();
    },
  });
  const logger = createRootLogger('test', 'info', sink);

  beforeEach(() => (lines.length = 0));

  it('writes JSON lines naming the service', () => {
    logger.info('hello');
    expect(lines[0]).toMatchObject({ service: 'test', msg: 'hello', level: 30 });
  });

  it('redacts credentials wherever they appear in a logged object', () => {
    logger.info(
      {
        password: 'hunter2',
        req: { headers: { authorization: `Bearer ${JWT}`, cookie: 'sid=abc' } },
        body: { refresh_token: 'rt-1', cardToken: 'tok_12345678', name: 'bob' },
      },
      'request',
    );
    const written = JSON.stringify(lines[0]);
    for (const secret of ['hunter2', JWT, 'sid=abc', 'rt-1', 'tok_12345678']) {
      expect(written).not.toContain(secret);
    }
    expect(written).toContain('bob');
  });

  it('scrubs credentials from messages and errors', () => {
    logger.warn(`upstream refused Bearer ${JWT}`);
    logger.error({ err: new Error(`bad token ${JWT}`) }, 'failed');
    expect(JSON.stringify(lines)).not.toContain(JWT);
  });
});
