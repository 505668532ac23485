import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { bearerChallenge } from '@acme/auth';
import type { Response } from 'express';

/**
 * Nest's default HTTP error handling (generic 500s, no stack traces), plus the
 * RFC 6750 `WWW-Authenticate` challenge on 401 and 403.
 */
@Catch()
export class HttpErrorFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HttpException && host.getType() === 'http') {
      const challenge = bearerChallenge(exception);
      if (challenge) host.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', challenge);
    }
    super.catch(exception, host);
  }
}
