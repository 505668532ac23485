import { GatewayTimeoutException, Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { throwError, timeout } from 'rxjs';

/**
 * Answers 504 when a handler has not produced its result within `timeoutMs`,
 * whatever it waits for: a request never hangs. Its work is abandoned, not undone.
 *
 * @example
 * app.useGlobalInterceptors(new RequestTimeoutInterceptor(10_000));
 */
@Injectable()
export class RequestTimeoutInterceptor implements NestInterceptor {
  constructor(private readonly timeoutMs: number) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout({
        first: this.timeoutMs,
        with: () =>
          throwError(() => new GatewayTimeoutException(`no answer within ${this.timeoutMs} ms`)),
      }),
    );
  }
}
