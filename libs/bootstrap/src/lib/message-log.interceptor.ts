import { HttpException, Injectable, Logger } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { incomingCall } from '@acme/auth';
import type { MessageContext } from '@acme/transport';
import type { Observable } from 'rxjs';
import { tap } from 'rxjs';
import { recordRpcMessage } from './call.metrics';

/**
 * One log line per message a service handles: pattern, calling service,
 * request id, outcome and duration; the counterpart of the gateway's request
 * log, and its time in `acme_rpc_message_duration_seconds`. HTTP requests are
 * logged by `requestLogging()` instead.
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
    const started = performance.now();
    const elapsedMs = () => performance.now() - started;
    const pattern = fields.pattern ?? 'unknown';
    return next.handle().pipe(
      tap({
        complete: () => {
          const durationMs = elapsedMs();
          recordRpcMessage(pattern, 'ok', durationMs / 1000);
          this.log.log({ ...fields, durationMs: Math.round(durationMs) }, 'message handled');
        },
        error: (error: unknown) => {
          const durationMs = elapsedMs();
          const status = error instanceof HttpException ? error.getStatus() : 500;
          recordRpcMessage(pattern, String(status), durationMs / 1000);
          this.log.warn(
            { ...fields, status, durationMs: Math.round(durationMs) },
            'message failed',
          );
        },
      }),
    );
  }
}
