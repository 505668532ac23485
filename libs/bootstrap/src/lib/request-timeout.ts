import { GatewayTimeoutException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

/**
 * Answers 504 when a request has no answer within `timeoutMs` of being routed,
 * whatever it waits for (its body, a guard, the handler, a downstream call): a
 * request never hangs. Its work is abandoned, not undone, and a late answer is
 * dropped. The 504 goes through the app's exception filters, as any error.
 *
 * A timer per request, cleared when the response closes (sent, or the client
 * gone). Not Fastify's own `handlerTimeout`: up to 5.12 at least, it stops
 * timing a request with a body once the body is read, and aborts
 * `request.signal` then, because it takes the request stream's `close` (a body
 * fully read) for a disconnect. Not a Nest interceptor either: that would time
 * the handler alone, and with any interceptor at all Nest pipes every request
 * through RxJS, about 100 us of CPU on node 20 (docs/BENCHMARKS.md).
 *
 * @example
 * answerWithin(app.getHttpAdapter().getInstance(), 10_000);
 */
export function answerWithin(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      void reply.send(new GatewayTimeoutException('no answer within the request timeout'));
    }, timeoutMs);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}
