import { Logger } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { REQUEST_ID_HEADER } from '../context/call-context';
import { incomingCall } from '../context/incoming-call';
import { getPrincipal } from '../context/principal.context';
import type { Principal } from '../principal';
import { activeTraceId } from '@acme/telemetry';

/**
 * The security events this system writes, named as in the OWASP Logging
 * Vocabulary (https://cheatsheetseries.owasp.org/cheatsheets/Logging_Vocabulary_Cheat_Sheet.html).
 */
export const AUDIT_EVENTS = [
  /** 401: a missing, malformed, expired or wrongly signed token at any hop. */
  'authn_token_invalid',
  /** A refresh token or authorization code presented a second time: its grant is revoked. */
  'authn_token_reuse',
  /** A sign-in with a wrong user name or password. */
  'authn_login_fail',
  /** A sign-in refused, unchecked, because of too many failures. */
  'authn_login_lock',
  'authn_login_success',
  /** 403: scope, role, policy, IP rule, or a calling service not allowed. */
  'authz_fail',
  /** 429 from a rate limit. */
  'excess_rate_limit_exceeded',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

/**
 * One audit line. Never a token, a password or a cookie: only who, what, why
 * and the ids that join it to the other lines of the same request.
 */
export interface AuditEvent {
  event: AuditEventName;
  /** `user:<sub>`, `service:<name>`, or `anonymous` when no token was verified. */
  principal: string;
  /** The calling service's SPIFFE ID (messages between services); absent at the edge. */
  caller?: string;
  /** `GET /api/orders/…` (no query string), or the message pattern. */
  action: string;
  reason: string;
  requestId?: string;
  /**
   * The call's trace id: its span's when tracing records, otherwise that of
   * the W3C `traceparent` it came with, when it came with one.
   */
  traceId?: string;
  /** The client's address (HTTP). */
  from?: string;
}

/** Who, what and the ids of a call: an {@link AuditEvent} without its event and reason. */
export type AuditSubject = Omit<AuditEvent, 'event' | 'reason'>;

/** The key of the audit fields in a log line, and the Nest logger context of audit lines. */
export const AUDIT_LOG_KEY = 'audit';
const logger = new Logger('Audit');

/**
 * Writes one audit line through Nest's logger (pino, one JSON object per line
 * in production): the event's fields under the `audit` key, so they never
 * collide with the line's own `level`, `msg`, `service` or `requestId`, and
 * the event name as the message. A successful sign-in is `info`, everything
 * else `warn`.
 *
 * @example
 * writeAuditEvent({ event: 'authz_fail', reason: 'missing role admin', ...httpAuditSubject(request) });
 */
export function writeAuditEvent(event: AuditEvent): void {
  const line = { [AUDIT_LOG_KEY]: event };
  if (event.event === 'authn_login_success') logger.log(line, event.event);
  else logger.warn(line, event.event);
}

/** `user:<sub>`, `service:<name>`, or `anonymous`. */
export function principalName(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'service'
    ? `service:${principal.service ?? principal.clientId}`
    : `user:${principal.subject}`;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C `traceparent` value; undefined for anything malformed or all-zero. */
export function traceIdOf(traceparent: unknown): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (!match || traceparent.startsWith('ff') || /^0+$/.test(match[1])) return undefined;
  return match[1];
}

/** What the audit reads of an HTTP request, Fastify's or Express's. */
export interface AuditedHttpRequest {
  method: string;
  originalUrl: string;
  ip?: string;
  headers: IncomingHttpHeaders;
}

/** Who made an HTTP request, and what it asked for. */
export function httpAuditSubject(
  request: AuditedHttpRequest,
  principal = principalName((request as { user?: Principal }).user),
): AuditSubject {
  const requestId = request.headers[REQUEST_ID_HEADER];
  return {
    principal,
    action: `${request.method} ${request.originalUrl.split('?')[0]}`,
    requestId: typeof requestId === 'string' ? requestId : undefined,
    traceId: activeTraceId() ?? traceIdOf(request.headers.traceparent),
    from: request.ip,
  };
}

/**
 * Who made the call in front of a guard, interceptor or filter, and what it
 * asked for; undefined for a transport this library does not know.
 */
export function auditSubject(host: ArgumentsHost): AuditSubject | undefined {
  const call = incomingCall(host);
  switch (call.kind) {
    case 'http':
      return httpAuditSubject(call.request);
    case 'rpc': {
      const { message } = call;
      if (!message) return undefined;
      // Nest hands filters the same arguments its guards saw: the principal they set is found.
      return {
        principal: principalName(getPrincipal(host)),
        caller: message.getPeerSpiffeId(),
        action: message.getPattern(),
        requestId: message.getMeta().requestId,
        traceId: activeTraceId() ?? traceIdOf(message.getMeta().traceparent),
      };
    }
    case 'unsupported':
      return undefined;
  }
}
