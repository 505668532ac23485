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

  it("redacts a secret field one level down under any key, and leaves the caller's object alone", () => {
    const body = { name: 'bob', password: 'hunter2', nested: { keep: 'me' } };
    logger.info({ token: 'top-level-token', body, session: { accessToken: 'at-1' } }, 'login');

    expect(lines[0]).toMatchObject({
      token: '[redacted]',
      body: { name: 'bob', password: '[redacted]', nested: { keep: 'me' } },
      session: { accessToken: '[redacted]' },
    });
    expect(body.password).toBe('hunter2');
  });

  it('redacts the credential headers of a logged request and response', () => {
    const req = { headers: { 'proxy-authorization': 'Basic cHJveHk6cGFzcw==', host: 'api' } };
    const res = { headers: { 'set-cookie': 'sid=abc; HttpOnly', 'content-type': 'json' } };
    logger.info({ req, res }, 'request');

    expect(lines[0]).toMatchObject({
      req: { headers: { 'proxy-authorization': '[redacted]', host: 'api' } },
      res: { headers: { 'set-cookie': '[redacted]', 'content-type': 'json' } },
    });
    expect(req.headers['proxy-authorization']).toBe('Basic cHJveHk6cGFzcw==');
  });

  it("redacts a child logger's bindings, an error's secret fields and interpolated objects", () => {
    const error = Object.assign(new Error('refused'), { token: 'error-token' });
    logger.child({ client: { clientSecret: 'bound-secret' } }).error({ err: error }, 'failed');
    logger
      .child({ requestId: 'r-1' })
      .child({ session: { token: 'grandchild-token' } })
      .info('hi');
    logger.info('body %j', {
      password: 'interpolated-top',
      nested: { token: 'interpolated-deep' },
    });

    const written = JSON.stringify(lines);
    for (const secret of [
      'bound-secret',
      'grandchild-token',
      'error-token',
      'interpolated-top',
      'interpolated-deep',
    ]) {
      expect(written).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      client: { clientSecret: '[redacted]' },
      err: { message: 'refused', token: '[redacted]' },
      msg: 'failed',
    });
    expect(lines[1]).toMatchObject({ requestId: 'r-1', session: { token: '[redacted]' } });
  });

  it('keeps what JSON makes of a logged class instance, its secret field redacted', () => {
    class Credentials {
      constructor(
        readonly user: string,
        readonly password: string,
      ) {}
      toJSON() {
        return { user: this.user, password: this.password, kind: 'credentials' };
      }
    }
    logger.info({ credentials: new Credentials('bob', 'hunter2') }, 'login');

    expect(lines[0]).toMatchObject({
      credentials: { user: 'bob', password: '[redacted]', kind: 'credentials' },
    });
  });

  it('scrubs credentials from messages and errors', () => {
    logger.warn(`upstream refused Bearer ${JWT}`);
    logger.error({ err: new Error(`bad token ${JWT}`) }, 'failed');
    expect(JSON.stringify(lines)).not.toContain(JWT);
  });
});
