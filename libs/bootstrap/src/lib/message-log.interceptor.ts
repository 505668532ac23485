import { HttpException, Injectable, Logger } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { incomingCall } from '@acme/auth';
import type { MessageContext } from '@acme/transport';
import type { Observable } from 'rxjs';
import { tap } from 'rxjs';

/**
 * One log line per message a service handles: pattern, calling service,
 * request id, outcome and duration; the counterpart of the gateway's request
 * log. HTTP requests are logged by `requestLogging()` instead.
 */
@Injectable()
export class MessageLogInterceptor implements NestInterceptor {
  private readonly log = new Logger('Message');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call = incomingCall(context);
    switch (call.kind) {
      case 'http':
      case 'unsupported':
        return next.handle();
      case 'rpc':
        return this.logged(call.message, next);
    }
  }

  private logged(message: MessageContext | undefined, next: CallHandler): Observable<unknown> {
    const fields = message
      ? {
          pattern: message.getPattern(),
          peer: message.getPeerSpiffeId(),
          requestId: message.getMeta().requestId,
        }
      : {};
    const started = Date.now();
    return next.handle().pipe(
      tap({
        complete: () =>
          this.log.log({ ...fields, durationMs: Date.now() - started }, 'message handled'),
        error: (error: unknown) => {
          const status = error instanceof HttpException ? error.getStatus() : 500;
          this.log.warn({ ...fields, status, durationMs: Date.now() - started }, 'message failed');
        },
      }),
    );
  }
}
