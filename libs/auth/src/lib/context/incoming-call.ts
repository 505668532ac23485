import type { ArgumentsHost } from '@nestjs/common';
import { EventContext, MessageContext } from '@acme/transport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CallSlot } from './call-slot';

/** An HTTP request (Fastify). */
export interface IncomingHttpCall {
  kind: 'http';
  /** Lives exactly as long as this call: the key of per-call state (the request itself). */
  key: object;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** A message of a microservice transport. */
export interface IncomingRpcCall {
  kind: 'rpc';
  /** Lives exactly as long as this call: the key of per-call state (the transport's context). */
  key: object;
  /** Metadata and verified peer of a message of `SecureTcpServer`; undefined from any other transport. */
  message: MessageContext | undefined;
  /** A signed event from the broker, its signature verified; undefined for any message. */
  event: EventContext | undefined;
  /** The payload. */
  data: unknown;
}

/** Any other transport (websockets, GraphQL...): nothing here knows its credentials. */
export interface UnsupportedCall {
  kind: 'unsupported';
  type: string;
}

export type IncomingCall = IncomingHttpCall | IncomingRpcCall | UnsupportedCall;

const readCalls = new CallSlot<{ type: string; call: IncomingCall }>('incoming call');

/**
 * What a guard, interceptor or filter needs of the call in front of it, HTTP
 * or RPC, read in this one place rather than by a switch over
 * `context.getType()` in each of them. Anything else is `unsupported`: callers
 * decide, explicitly, whether that refuses or passes.
 *
 * @example
 * const call = incomingCall(context);
 * switch (call.kind) {
 *   case 'http': return call.request.headers.authorization;
 *   case 'rpc': return call.message?.getMeta().authorization;
 *   case 'unsupported': throw new InvalidTokenException('unsupported transport');
 * }
 */
export function incomingCall(host: ArgumentsHost): IncomingCall {
  const type = host.getType<string>();
  // Every guard, policy and parameter of a call asks, through one host per call: read it once.
  const known = readCalls.get(host);
  if (known?.type === type) return known.call;
  const call = readIncomingCall(host, type);
  readCalls.set(host, { type, call });
  return call;
}

function readIncomingCall(host: ArgumentsHost, type: string): IncomingCall {
  if (type === 'http') {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    return { kind: 'http', key: request, request, reply: http.getResponse<FastifyReply>() };
  }
  if (type === 'rpc') {
    const rpc = host.switchToRpc();
    const context = rpc.getContext<object>();
    return {
      kind: 'rpc',
      key: context,
      message: context instanceof MessageContext ? context : undefined,
      event: context instanceof EventContext ? context : undefined,
      data: rpc.getData<unknown>(),
    };
  }
  return { kind: 'unsupported', type };
}
