import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { MessageContext } from '@acme/transport';
import { httpContext, rpcContext } from '../testing/guard-contexts';
import { incomingCall } from './incoming-call';

class OrdersController {
  get(): void {
    // a handler to point the contexts at
  }
}

describe(incomingCall.name, () => {
  it('reads an HTTP request, its reply, and keys the call by the request', () => {
    const context = httpContext(OrdersController, 'get', {
      headers: { authorization: 'Bearer x' },
    });
    const call = incomingCall(context);
    expect(call).toMatchObject({
      kind: 'http',
      request: { headers: { authorization: 'Bearer x' } },
    });
    if (call.kind !== 'http') throw new Error('expected an HTTP call');
    expect(call.key).toBe(context.switchToHttp().getRequest());
    expect(call.reply).toBe(context.switchToHttp().getResponse());
  });

  it('reads a message of the secure transport: its context, payload and key', () => {
    const context = rpcContext(OrdersController, 'get', {
      data: { id: 'o-1' },
      meta: { requestId: 'r-1' },
    });
    const call = incomingCall(context);
    if (call.kind !== 'rpc') throw new Error('expected an RPC call');
    expect(call.data).toEqual({ id: 'o-1' });
    expect(call.message).toBeInstanceOf(MessageContext);
    expect(call.message?.getMeta()).toEqual({ requestId: 'r-1' });
    expect(call.key).toBe(context.switchToRpc().getContext());
  });

  it('has no message for a transport other than the secure one, yet a key for the call', () => {
    const foreign = {};
    const context = new ExecutionContextHost([{ id: 'o-1' }, foreign]);
    context.setType('rpc');
    expect(incomingCall(context)).toEqual({
      kind: 'rpc',
      key: foreign,
      message: undefined,
      data: { id: 'o-1' },
    });
  });

  it('reads a host once, for every guard and parameter of its call; each host its own call', () => {
    const context = rpcContext(OrdersController, 'get', { data: { id: 'o-1' } });
    const next = rpcContext(OrdersController, 'get', { data: { id: 'o-2' } });

    expect(incomingCall(context)).toBe(incomingCall(context));
    expect(incomingCall(next)).toMatchObject({ kind: 'rpc', data: { id: 'o-2' } });
    expect(incomingCall(context)).toMatchObject({ kind: 'rpc', data: { id: 'o-1' } });
  });

  it('reads a host again once its type is set', () => {
    const context = new ExecutionContextHost([{ id: 'o-1' }, {}]);
    expect(incomingCall(context).kind).toBe('http');
    context.setType('rpc');
    expect(incomingCall(context).kind).toBe('rpc');
  });

  it.each(['ws', 'graphql'])('calls a %s context unsupported, naming its type', (type) => {
    const context = new ExecutionContextHost([{}]);
    context.setType(type);
    expect(incomingCall(context)).toEqual({ kind: 'unsupported', type });
  });
});
