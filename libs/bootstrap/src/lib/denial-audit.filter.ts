import { Catch } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { countDenial, writeAuditEvent } from '@acme/auth';
import { denialAuditEvent, isDenial } from './denial-audit';

/**
 * Wraps the app's error filter: every 401 and 403 leaves one audit line
 * (`authn_token_invalid` or `authz_fail`: who, what, why) before the usual
 * answer. The token itself is never part of it.
 *
 * @example
 * app.useGlobalFilters(new DenialAuditFilter(new RpcErrorFilter()));
 */
@Catch()
export class DenialAuditFilter implements ExceptionFilter {
  constructor(private readonly inner: ExceptionFilter) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (isDenial(exception)) countDenial(exception);
    if (isDenial(exception)) {
      const audit = denialAuditEvent(exception, host);
      if (audit) writeAuditEvent(audit);
    }
    return this.inner.catch(exception, host);
  }
}
