import type { ArgumentsHost, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../principal';
import { CallSlot } from './call-slot';
import { incomingCall } from './incoming-call';

const rpcPrincipals = new CallSlot<Principal>('principal');

/**
 * The authenticated principal of a request or message, set by `JwtAuthGuard`:
 * `request.user` over HTTP, a per-message slot over RPC.
 */
export function getPrincipal(context: ArgumentsHost): Principal | undefined {
  const call = incomingCall(context);
  switch (call.kind) {
    case 'http':
      return (call.request as FastifyRequest & { user?: Principal }).user;
    case 'rpc':
      return rpcPrincipals.get(call.key);
    case 'unsupported':
      throw new Error(`${call.type} contexts are not supported by @acme/auth`);
  }
}

export function setRpcPrincipal(context: ExecutionContext, principal: Principal): void {
  rpcPrincipals.set(context.switchToRpc().getContext<object>(), principal);
}
