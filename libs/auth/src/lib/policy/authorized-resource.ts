import { createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { CallSlot } from '../context/call-slot';
import { incomingCall } from '../context/incoming-call';

const resources = new CallSlot<unknown>('authorized resource');

/** The object that lives exactly as long as one request or message: the HTTP request, or the RPC context. */
function callOf(context: ExecutionContext): object | undefined {
  const call = incomingCall(context);
  return call.kind === 'unsupported' ? undefined : call.key;
}

/** Set by `PolicyGuard` when an `isOwner(...)` rule loaded the resource to decide. */
export function keepAuthorizedResource(context: ExecutionContext, resource: unknown): void {
  const call = callOf(context);
  if (call) resources.set(call, resource);
}

/**
 * Injects the resource an `isOwner(Loader)` policy loaded to authorize this
 * call, so the handler need not read it a second time; `undefined` when the
 * policy decided without loading it (e.g. `hasRole('admin')` held first).
 *
 * @example
 * @Policy(anyOf(hasRole('admin'), isOwner(OrderLoader)))
 * get(@Payload() { id }: OrderIdDto, @AuthorizedResource() order?: Order) {
 *   return order ?? this.orders.get(id);
 * }
 */
export const AuthorizedResource = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown => {
    const call = callOf(context);
    return call ? resources.get(call) : undefined;
  },
);
