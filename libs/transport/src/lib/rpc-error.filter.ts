import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { isRpcErrorBody } from './rpc-error';
import type { RpcErrorBody } from './rpc-error';

/**
 * Turns every exception thrown by a message handler, guard or pipe into an
 * {@link RpcErrorBody}. HTTP exceptions keep their status and code; anything
 * else is logged here and leaves the process only as a generic 500.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger(RpcErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    if (host.getType() !== 'rpc') throw exception;
    return throwError(() => this.toBody(exception));
  }

  private toBody(exception: unknown): RpcErrorBody {
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const body = typeof response === 'object' ? (response as Record<string, unknown>) : {};
      return {
        status: exception.getStatus(),
        error: typeof body['error'] === 'string' ? body['error'] : exception.name,
        message: (body['message'] as string | string[] | undefined) ?? exception.message,
      };
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (isRpcErrorBody(error)) return error;
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return { status: 500, error: 'internal_error', message: 'Internal server error' };
  }
}
