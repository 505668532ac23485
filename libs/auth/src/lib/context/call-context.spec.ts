import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import type { CanActivate, ExecutionContext, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { currentCallMeta } from '@acme/transport';
import type { MessageMeta } from '@acme/transport';
import { REQUEST_ID_HEADER, runRoutesInCallContext } from './call-context';
import { setClientNetworks } from './client-networks.context';

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
    const now = { ...currentCallMeta() };
    const later = await new Promise<MessageMeta>((resolve) =>
      setTimeout(() => resolve({ ...currentCallMeta() }), 5),
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
});
