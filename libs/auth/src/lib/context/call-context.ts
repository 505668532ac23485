import { runInCallContext } from '@acme/transport';
import type { MessageMeta } from '@acme/transport';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { traceCarrierOfHeaders } from '@acme/telemetry';
import { recordedClientNetworks } from './client-networks.context';
import { httpCredentialsOf } from '../http/http-sender-constraint';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Runs every route of `fastify`, Nest's guards, pipes and handler included, with the
 * request's token and request id in the call context (`currentCallMeta()`), so that
 * `ServiceClient` forwards them without any handler touching a token. Messages get
 * theirs from the transport (`SecureTcpServer`, the event consumers).
 *
 * A Fastify route wrapper, not a Nest interceptor: Nest binds an `AsyncResource` per
 * interceptor and pipes every answer through RxJS, and one interceptor cost the gateway
 * about 100 us of CPU per request on node 20 (docs/BENCHMARKS.md). Call it before any
 * route is added (`createHttpApp` does).
 *
 * @example
 * runRoutesInCallContext(app.getHttpAdapter().getInstance());
 */
export function runRoutesInCallContext(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const handler: RouteHandlerMethod = route.handler;
    route.handler = function (request, reply) {
      return runInCallContext(httpCallMeta(request), () => handler.call(this, request, reply));
    };
  });
}

/**
 * The metadata a request's calls to other services carry, read from its headers once, as the
 * request enters its call context. A class, not an object literal with a getter: a tenth of
 * the CPU per request (docs/BENCHMARKS.md).
 */
class HttpCallMeta implements MessageMeta {
  readonly authorization: string | undefined;
  readonly requestId: string | undefined;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly #request: object;

  constructor(request: Pick<FastifyRequest, 'headers'>) {
    const { headers } = request;
    const requestId = headers[REQUEST_ID_HEADER];
    // Onward the token (exchanged, or forwarded) travels as `Bearer <token>` over mutual TLS,
    // however the client wrote its scheme: in any case, after several spaces, or as DPoP,
    // whose proof was for this hop (a forwarded DPoP-bound token is refused by the callee).
    const credentials = httpCredentialsOf(request);
    this.authorization = credentials ? `Bearer ${credentials.token}` : headers.authorization;
    this.requestId = typeof requestId === 'string' ? requestId : undefined;
    const trace = traceCarrierOfHeaders(headers);
    this.traceparent = trace.traceparent;
    this.tracestate = trace.tracestate;
    this.#request = request;
  }

  /** Read when a call is sent: the edge's IP guard records them after the context is set. */
  get clientNetworks(): string[] {
    return [...recordedClientNetworks(this.#request)];
  }
}

/** The metadata a request's calls to other services carry. */
export function httpCallMeta(request: Pick<FastifyRequest, 'headers'>): MessageMeta {
  return new HttpCallMeta(request);
}
