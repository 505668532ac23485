import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Controller, Get, Logger } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { runRoutesInCallContext } from '@acme/auth';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { z } from 'zod';
import { parseEnv } from './env';
import {
  createRootLogger,
  LoggingModule,
  logFormatOf,
  loggingEnv,
  prettyDestination,
  requestLogging,
  ROOT_LOGGER,
} from './logging.module';

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

describe(LoggingModule.name, () => {
  @Controller()
  class PingController {
    private readonly log = new Logger('Ping');

    @Get('ping')
    ping(): { pong: true } {
      this.log.log('handling ping');
      return { pong: true };
    }
  }

  const lines: Record<string, unknown>[] = [];
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().trim().split('\n')) {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true }), LoggingModule.forRoot('gateway')],
      controllers: [PingController],
    })
      .overrideProvider(ROOT_LOGGER)
      .useValue(createRootLogger('gateway', 'info', sink))
      .compile();
    // Wired as createHttpApp wires it: the request's line, then its routes in their call context.
    const adapter = new FastifyAdapter();
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter);
    app.useLogger(app.get(PinoNestLogger));
    const logging = requestLogging(app.get(ROOT_LOGGER));
    adapter.setOnRequestHook((request, reply, done) => {
      logging.onRequest(request, reply);
      done();
    });
    adapter.setOnResponseHook((request, reply, done) => {
      logging.onResponse(request, reply);
      done();
    });
    runRoutesInCallContext(adapter.getInstance());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(() => app.close());

  it("names the request's id on what Nest's Logger writes while it is handled, and on its own line", async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/ping',
      headers: { 'x-request-id': 'req-12345678' },
    });

    expect(response.statusCode).toBe(200);
    const ofRequest = lines.filter((line) => line['requestId'] === 'req-12345678');
    expect(ofRequest).toEqual([
      expect.objectContaining({ context: 'Ping', msg: 'handling ping' }),
      expect.objectContaining({ msg: 'GET 200', res: { statusCode: 200 } }),
    ]);
  });
});
