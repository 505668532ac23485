import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { countDenial, getPrincipal, incomingCall, REQUEST_ID_HEADER } from '@acme/auth';
import type { Principal } from '@acme/auth';
import type { FastifyRequest } from 'fastify';

/** The fields of an access-denied audit line. */
export interface DenialAudit {
  audit: 'access-denied';
  status: number;
  /** `user:<sub>`, `service:<client_id>`, or `anonymous` when no token was verified. */
  principal: string;
  /** `GET /api/orders/…` (no query string), or the message pattern. */
  action: string;
  reason: string;
  /** Client address (HTTP) or calling service's SPIFFE ID (messages). */
  from?: string;
  requestId?: string;
}

/**
 * Wraps the app's error filter: every 401 and 403 leaves one audit line (who,
 * what, why) before the usual answer. The token itself is never part of it.
 *
 * @example
 * app.useGlobalFilters(new DenialAuditFilter(new RpcErrorFilter()));
 */
@Catch()
export class DenialAuditFilter implements ExceptionFilter {
  private readonly log = new Logger('Audit');

  constructor(private readonly inner: ExceptionFilter) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (isDenial(exception)) countDenial(exception);
    if (isDenial(exception)) {
      const audit = describeDenial(exception, host);
      if (audit) this.log.warn(audit, 'access denied');
    }
    return this.inner.catch(exception, host);
  }
}

/** A 401 or 403. */
export function isDenial(exception: unknown): exception is HttpException {
  return exception instanceof HttpException && [401, 403].includes(exception.getStatus());
}

/** The audit line of an HTTP request refused with `exception`. */
export function httpDenial(
  request: FastifyRequest & { user?: Principal },
  exception: HttpException,
): DenialAudit {
  const requestId = request.headers[REQUEST_ID_HEADER];
  return {
    ...denialOf(exception),
    principal: nameOf(request.user),
    action: `${request.method} ${request.originalUrl.split('?')[0]}`,
    from: request.ip,
    requestId: typeof requestId === 'string' ? requestId : undefined,
  };
}

function describeDenial(exception: HttpException, host: ArgumentsHost): DenialAudit | undefined {
  const call = incomingCall(host);
  switch (call.kind) {
    case 'http':
      return httpDenial(call.request, exception);
    case 'rpc': {
      const { message } = call;
      if (!message) return undefined;
      // Nest hands filters the same arguments its guards saw: the principal they set is found.
      return {
        ...denialOf(exception),
        principal: nameOf(getPrincipal(host)),
        action: message.getPattern(),
        from: message.getPeerSpiffeId(),
        requestId: message.getMeta().requestId,
      };
    }
    case 'unsupported':
      return undefined;
  }
}

function denialOf(exception: HttpException): Pick<DenialAudit, 'audit' | 'status' | 'reason'> {
  const body = exception.getResponse();
  const message = typeof body === 'object' ? (body as { message?: unknown }).message : body;
  return {
    audit: 'access-denied',
    status: exception.getStatus(),
    reason: typeof message === 'string' ? message : exception.message,
  };
}

function nameOf(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'service'
    ? `service:${principal.clientId}`
    : `user:${principal.subject}`;
}
