import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { challengeHeaders } from '@acme/auth';

/**
 * Nest's default HTTP error handling (generic 500s, no stack traces), plus the
 * RFC 6750 `WWW-Authenticate` challenge on 401 and 403 (and a DPoP nonce to
 * retry with, RFC 9449 9).
 */
@Catch()
export class HttpErrorFilter extends BaseExceptionFilter {
  override catch(thrown: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(thrown, host);
    if (thrown instanceof HttpException) {
      const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
      for (const [name, value] of Object.entries(challengeHeaders(thrown))) {
        adapter?.setHeader(host.switchToHttp().getResponse(), name, value);
      }
    }
    super.catch(thrown, host);
  }
}
