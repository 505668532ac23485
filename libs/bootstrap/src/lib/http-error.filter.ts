import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { bearerChallenge } from '@acme/auth';

/**
 * Nest's default HTTP error handling (generic 500s, no stack traces), plus the
 * RFC 6750 `WWW-Authenticate` challenge on 401 and 403.
 */
@Catch()
export class HttpErrorFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HttpException && host.getType() === 'http') {
      const challenge = bearerChallenge(exception);
      const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
      if (challenge) {
        adapter?.setHeader(host.switchToHttp().getResponse(), 'WWW-Authenticate', challenge);
      }
    }
    super.catch(exception, host);
  }
}
