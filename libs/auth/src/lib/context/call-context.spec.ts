import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import type { CanActivate, ExecutionContext, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { currentCallMeta } from '@acme/transport';
import type { MessageMeta } from '@acme/transport';
import { REQUEST_ID_HEADER, runRoutesInCallContext } from './call-context';
import { setClientNetworks } from './client-networks.context';

/** The fields of the call context that a ServiceClient call reads, as they are when called. */
function fieldsOf(meta: MessageMeta | undefined): MessageMeta {
  const { authorization, requestId, clientNetworks, traceparent, tracestate } = meta ?? {};
  return { authorization, requestId, clientNetworks, traceparent, tracestate };
}

/** What the guard saw of the call context, before recording the client's networks. */
let seenByGuard: MessageMeta | undefined;

/** Records the client's networks as the edge's IP guard does, after the route entered its context. */
@Injectable()
class AdminNetworkGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    seenByGuard = currentCallMeta();
    setClientNetworks(context.switchToHttp().getRequest(), ['admin']);
    return true;
  }
}

@Controller()
@UseGuards(AdminNetworkGuard)
class MetaController {
  @Get('meta')
  async meta(): Promise<{ now: MessageMeta; later: MessageMeta }> {
    const now = fieldsOf(currentCallMeta());
    const later = await new Promise<MessageMeta>((resolve) =>
      setTimeout(() => resolve(fieldsOf(currentCallMeta())), 5),
    );
    return { now, later };
  }
}

@Module({ controllers: [MetaController] })
class MetaModule {}

describe(runRoutesInCallContext.name, () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const adapter = new FastifyAdapter();
    app = await NestFactory.create(MetaModule, adapter, { logger: false });
    runRoutesInCallContext(adapter.getInstance());
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  const get = async (headers: Record<string, string>) =>
    (await fetch(`${url}/meta`, { headers })).json() as Promise<{
      now: MessageMeta;
      later: MessageMeta;
    }>;

  it("runs guards and handler, and what the handler starts, in the request's context", async () => {
    const seen = await get({ authorization: 'Bearer alices-token', [REQUEST_ID_HEADER]: 'req-1' });

    const expected = {
      authorization: 'Bearer alices-token',
      requestId: 'req-1',
      clientNetworks: ['admin'],
    };
    expect(seen).toEqual({ now: expected, later: expected });
    expect(seenByGuard).toMatchObject({ authorization: 'Bearer alices-token', requestId: 'req-1' });
  });

  it('passes a DPoP-bound token on as a bearer token: the proof was for this hop only', async () => {
    const seen = await get({ authorization: 'DPoP bound-token', dpop: 'proof' });
    expect(seen.now.authorization).toBe('Bearer bound-token');
  });

  it('passes a token on as `Bearer <token>` whatever case and spacing its scheme came with', async () => {
    const seen = await get({ authorization: 'bearer   alices-token' });
    expect(seen.now.authorization).toBe('Bearer alices-token');
  });

  it('reads the DPoP scheme in any case, and passes on what is neither scheme unchanged', async () => {
    const lower = await get({ authorization: 'dpop bound-token', dpop: 'proof' });
    const malformed = await get({ authorization: 'DPoP two tokens' });
    expect([lower.now.authorization, malformed.now.authorization]).toEqual([
      'Bearer bound-token',
      'DPoP two tokens',
    ]);
  });

  it("carries the request's W3C trace context, and nothing of a malformed one", async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = await get({ traceparent, tracestate: 'acme=1' });
    const malformed = await get({ traceparent: 'not a traceparent', tracestate: 'acme=1' });
    expect(traced.now).toMatchObject({ traceparent, tracestate: 'acme=1' });
    expect(malformed.now).not.toHaveProperty('traceparent');
    expect(malformed.now).not.toHaveProperty('tracestate');
  });
});
