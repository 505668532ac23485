import type { ExecutionContext } from '@nestjs/common';
import type { ContextType } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../principal';

const rpcPrincipals = new WeakMap<object, Principal>();

/**
 * The authenticated principal of a request or message, set by `JwtAuthGuard`:
 * `request.user` over HTTP, a per-message slot over RPC.
 */
export function getPrincipal(context: ExecutionContext): Principal | undefined {
  const type = context.getType<ContextType>();
  switch (type) {
    case 'http':
      return context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>().user;
    case 'rpc':
      return rpcPrincipals.get(context.switchToRpc().getContext<object>());
    case 'ws':
      throw new Error('websocket contexts are not supported by @acme/auth');
  }
}

export function setRpcPrincipal(context: ExecutionContext, principal: Principal): void {
  rpcPrincipals.set(context.switchToRpc().getContext<object>(), principal);
}
