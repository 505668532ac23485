import { Controller, Logger } from '@nestjs/common';
import type { LoggerService } from '@nestjs/common';
import type { Principal } from '../principal';
import { httpContext, rpcContext } from '../testing/guard-contexts';
import {
  AUDIT_EVENTS,
  auditSubject,
  principalName,
  traceIdOf,
  writeAuditEvent,
} from './audit-event';
import type { AuditEvent } from './audit-event';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

const user = (subject: string): Principal => ({
  kind: 'user',
  subject,
  clientId: 'web',
  actors: [],
  roles: ['user'],
  scopes: ['orders:read'],
  expiresAt: 0,
  claims: {},
});

@Controller()
class OrdersController {
  get(): void {
    // the handler a context is built for
  }
}

describe('the audit events', () => {
  it('are named as in the OWASP Logging Vocabulary', () => {
    expect(AUDIT_EVENTS).toEqual([
      'authn_token_invalid',
      'authn_token_reuse',
      'authn_login_fail',
      'authn_login_lock',
      'authn_login_success',
      'authz_fail',
      'excess_rate_limit_exceeded',
    ]);
  });
});

describe(principalName.name, () => {
  it('names a user by sub, a service by its service name, and nobody as anonymous', () => {
    expect(principalName(user('alice'))).toBe('user:alice');
    expect(principalName({ ...user('svc-sub'), kind: 'service', service: 'order' })).toBe(
      'service:order',
    );
    expect(principalName({ ...user('svc-sub'), kind: 'service', clientId: 'billing' })).toBe(
      'service:billing',
    );
    expect(principalName(undefined)).toBe('anonymous');
  });
});

describe(traceIdOf.name, () => {
  it('reads the trace id of a W3C traceparent', () => {
    expect(traceIdOf(TRACEPARENT)).toBe(TRACE_ID);
  });

  it.each([
    [undefined],
    [['two', 'headers']],
    ['garbage'],
    [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    [`ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    [`00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`],
  ])('invents none for %j', (value) => {
    expect(traceIdOf(value)).toBeUndefined();
  });
});

describe(auditSubject.name, () => {
  it('of an HTTP request: principal, action without query, ids and client address, never the token', () => {
    const context = httpContext(OrdersController, 'get', {
      method: 'GET',
      originalUrl: `/api/orders/7?access_token=${TOKEN}`,
      ip: '192.0.2.10',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        cookie: `session=${TOKEN}`,
        'x-request-id': 'req-12345678',
        traceparent: TRACEPARENT,
      },
      user: user('alice'),
    });

    const subject = auditSubject(context);

    expect(subject).toEqual({
      principal: 'user:alice',
      action: 'GET /api/orders/7',
      requestId: 'req-12345678',
      traceId: TRACE_ID,
      from: '192.0.2.10',
    });
    expect(JSON.stringify(subject)).not.toContain(TOKEN);
  });

  it('of an HTTP request before any token was verified: anonymous, and no trace id when none came', () => {
    const context = httpContext(OrdersController, 'get', {
      method: 'POST',
      originalUrl: '/api/orders',
      ip: '192.0.2.10',
      headers: { authorization: `Bearer ${TOKEN}` },
    });

    expect(auditSubject(context)).toEqual({
      principal: 'anonymous',
      action: 'POST /api/orders',
      from: '192.0.2.10',
    });
  });

  it('of a message: principal, pattern and request id, never the forwarded token', () => {
    const context = rpcContext(OrdersController, 'get', {
      meta: { authorization: `Bearer ${TOKEN}`, requestId: 'req-12345678' },
      principal: user('carol'),
    });

    const subject = auditSubject(context);

    // The caller is the peer of a mutual TLS socket: this one has none.
    expect(subject).toEqual({
      principal: 'user:carol',
      action: 'test.get',
      requestId: 'req-12345678',
    });
    expect(JSON.stringify(subject)).not.toContain(TOKEN);
  });
});

describe(writeAuditEvent.name, () => {
  const written: { level: string; message: unknown; params: unknown[] }[] = [];
  const capture =
    (level: string) =>
    (message: unknown, ...params: unknown[]) =>
      written.push({ level, message, params });
  const logger: LoggerService = {
    log: capture('log'),
    warn: capture('warn'),
    error: capture('error'),
  };

  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(new Logger()));
  beforeEach(() => (written.length = 0));

  const event: AuditEvent = {
    event: 'authz_fail',
    principal: 'user:carol',
    action: 'GET /api/orders/7',
    reason: 'missing role admin',
  };

  it('writes the event under the audit key, named in the message, at warn, as the Audit context', () => {
    writeAuditEvent(event);

    expect(written).toEqual([
      { level: 'warn', message: { audit: event }, params: ['authz_fail', 'Audit'] },
    ]);
  });

  it('writes a successful sign-in at info', () => {
    writeAuditEvent({ ...event, event: 'authn_login_success' });

    expect(written.map((line) => line.level)).toEqual(['log']);
  });
});
