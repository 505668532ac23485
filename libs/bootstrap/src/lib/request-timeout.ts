import { GatewayTimeoutException, HttpException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Answers 504 when a request has no answer within `timeoutMs` of being routed,
 * whatever it waits for (a guard, the body, the handler, a downstream call): a
 * request never hangs. Its work is abandoned, not undone; `request.signal` is
 * aborted for work that can stop early, and a late answer is dropped.
 *
 * Fastify's own `handlerTimeout`, set on every route as it is added, rather than
 * a Nest interceptor: an interceptor times the handler alone, and with any
 * interceptor at all Nest pipes every request through RxJS, about 100 us of CPU
 * on node 20 (docs/BENCHMARKS.md). Call it before any route is added;
 * {@link gatewayTimeoutOf} turns Fastify's 503 into the 504.
 *
 * @example
 * answerWithin(app.getHttpAdapter().getInstance(), 10_000);
 */
export function answerWithin(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('onRoute', (route) => {
    route.handlerTimeout ??= timeoutMs;
  });
}

/**
 * The 504 for a request that ran out of time, or `undefined` for any other
 * error: for the app's exception filter. Nest hands Fastify's timeout on as a
 * plain 503 `HttpException`; the request's aborted signal still names the cause.
 */
export function gatewayTimeoutOf(
  exception: unknown,
  request: FastifyRequest,
): GatewayTimeoutException | undefined {
  if (!(exception instanceof HttpException) || exception.getStatus() !== 503) return undefined;
  const reason = request.signal.reason as { code?: unknown } | undefined;
  if (reason?.code !== 'FST_ERR_HANDLER_TIMEOUT') return undefined;
  return new GatewayTimeoutException('no answer within the request timeout');
}
