import { Writable } from 'node:stream';
import {
  ForbiddenException,
  HttpException,
  Logger,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { InsufficientScopeException, InvalidTokenException } from '@acme/auth';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { denialAuditEvent } from './denial-audit';
import { DenialAuditFilter } from './denial-audit.filter';
import { createRootLogger } from './logging.module';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

/** An HTTP request of carol's, her token in the Authorization header and the query string. */
function carolsRequest(): ArgumentsHost {
  const request = {
    method: 'GET',
    originalUrl: `/api/orders/7?access_token=${TOKEN}`,
    ip: '192.0.2.10',
    headers: { authorization: `Bearer ${TOKEN}`, 'x-request-id': 'req-12345678' },
    user: { kind: 'user', subject: 'carol', clientId: 'web', roles: [], scopes: [] },
  };
  const host = new ExecutionContextHost([request, {}, () => undefined]);
  host.setType('http');
  return host;
}

describe(denialAuditEvent.name, () => {
  it.each([
    [new InvalidTokenException('token expired'), 'authn_token_invalid', 'token expired'],
    [new UnauthorizedException(), 'authn_token_invalid', 'Unauthorized'],
    [
      new InsufficientScopeException('missing scope orders:write'),
      'authz_fail',
      expect.any(String),
    ],
    [new ForbiddenException('isOwner refused'), 'authz_fail', 'isOwner refused'],
  ])('maps %p to %s', (exception, event, reason) => {
    expect(denialAuditEvent(exception, carolsRequest())).toEqual({
      event,
      principal: 'user:carol',
      action: 'GET /api/orders/7',
      reason,
      requestId: 'req-12345678',
      from: '192.0.2.10',
    });
  });

  it.each([new NotFoundException(), new HttpException('slow down', 429)])(
    'writes nothing for %p',
    (exception) => {
      expect(denialAuditEvent(exception, carolsRequest())).toBeUndefined();
    },
  );
});

describe(DenialAuditFilter.name, () => {
  const lines: string[] = [];
  const inner: ExceptionFilter = { catch: () => 'answered' };

  beforeAll(() => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    // The production setup: Nest's Logger over nestjs-pino over the root logger, JSON lines.
    const root = createRootLogger('gateway', 'info', destination);
    Logger.overrideLogger(new PinoNestLogger(new PinoLogger({ pinoHttp: { logger: root } }), {}));
  });
  afterAll(() => Logger.overrideLogger(new Logger()));
  beforeEach(() => (lines.length = 0));

  it('writes one JSON line per 403, the event under the audit key, and never the token', () => {
    const answer = new DenialAuditFilter(inner).catch(
      new ForbiddenException('missing role admin'),
      carolsRequest(),
    );

    expect(answer).toBe('answered');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 40,
      service: 'gateway',
      context: 'Audit',
      msg: 'authz_fail',
      audit: {
        event: 'authz_fail',
        principal: 'user:carol',
        action: 'GET /api/orders/7',
        reason: 'missing role admin',
        requestId: 'req-12345678',
        from: '192.0.2.10',
      },
    });
    expect(lines[0]).not.toContain(TOKEN);
  });

  it('writes nothing for an error that is no denial', () => {
    new DenialAuditFilter(inner).catch(new Error('boom'), carolsRequest());

    expect(lines).toEqual([]);
  });
});
