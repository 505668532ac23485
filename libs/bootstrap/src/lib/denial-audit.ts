import { HttpException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { auditSubject } from '@acme/auth';
import type { AuditEvent, AuditEventName } from '@acme/auth';

/** The audit event of each refusal an app's filters see: 401 and 403. */
const DENIAL_EVENTS: Readonly<Partial<Record<number, AuditEventName>>> = {
  401: 'authn_token_invalid',
  403: 'authz_fail',
};

/** A 401 or 403. */
export function isDenial(exception: unknown): exception is HttpException {
  return exception instanceof HttpException && exception.getStatus() in DENIAL_EVENTS;
}

/**
 * The audit event of a call refused with `exception`: `authn_token_invalid`
 * for a 401, `authz_fail` for a 403 (who, what and why). Undefined for any
 * other status, or a transport whose caller is unknown.
 */
export function denialAuditEvent(
  exception: HttpException,
  host: ArgumentsHost,
): AuditEvent | undefined {
  const event = DENIAL_EVENTS[exception.getStatus()];
  if (!event) return undefined;
  const subject = auditSubject(host);
  if (!subject) return undefined;
  return { event, ...subject, reason: reasonOf(exception) };
}

function reasonOf(exception: HttpException): string {
  const body = exception.getResponse();
  const message = typeof body === 'object' ? (body as { message?: unknown }).message : body;
  return typeof message === 'string' ? message : exception.message;
}
