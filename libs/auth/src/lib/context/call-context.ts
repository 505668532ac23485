import { Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { runInCallContext } from '@acme/transport';
import type { MessageMeta } from '@acme/transport';
import { Observable } from 'rxjs';
import type { FastifyRequest } from 'fastify';
import { traceCarrierOfHeaders } from '@acme/telemetry';
import { recordedClientNetworks } from './client-networks.context';
import { readHttpCredentials } from '../http/http-sender-constraint';
import { incomingCall } from './incoming-call';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Runs each HTTP handler with the caller's token and request id in the call context
 * (`currentCallMeta()`), so that {@link ServiceClient} forwards them without any handler
 * touching a token. Guards run before interceptors: by now the token is verified.
 * Messages get theirs from the transport (`SecureTcpServer`, the event consumers), so a
 * pure microservice registers no interceptor: Nest binds an `AsyncResource` per
 * interceptor for every call.
 */
@Injectable()
export class CallContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call = incomingCall(context);
    // A message (in a hybrid app) already runs in the context its transport set.
    if (call.kind !== 'http') return next.handle();
    const meta = httpCallMeta(call.request);
    return new Observable((subscriber) =>
      runInCallContext(meta, () => next.handle().subscribe(subscriber)),
    );
  }
}

function httpCallMeta(request: FastifyRequest): MessageMeta {
  const { headers } = request;
  const requestId = headers[REQUEST_ID_HEADER];
  // The DPoP proof was for this hop: onward, the token (exchanged, or forwarded) travels as
  // a bearer token over mutual TLS, and a forwarded DPoP-bound one is refused by the callee.
  const credentials = readHttpCredentials(headers.authorization);
  return {
    authorization:
      credentials?.scheme === 'dpop' ? `Bearer ${credentials.token}` : headers.authorization,
    requestId: typeof requestId === 'string' ? requestId : undefined,
    clientNetworks: [...recordedClientNetworks(request)],
    ...traceCarrierOfHeaders(headers),
  };
}
