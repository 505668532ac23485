import { Controller, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import type { CanActivate, INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { HttpErrorFilter } from './http-error.filter';
import { answerWithin } from './request-timeout';

const TIMEOUT_MS = 200;
const never = () => new Promise<never>(() => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the slow routes saw after their time was up. */
const seen = { lateAnswerSent: false, signalAborted: false };

@Injectable()
class StuckGuard implements CanActivate {
  canActivate(): Promise<boolean> {
    return never();
  }
}

@Controller()
class SlowController {
  @Get('fast')
  fast(): { ok: true } {
    return { ok: true };
  }

  @Get('stuck')
  stuck(): Promise<never> {
    return never();
  }

  @Get('late')
  async late(@Req() request: FastifyRequest): Promise<{ late: true }> {
    await sleep(TIMEOUT_MS * 2);
    seen.signalAborted = request.signal.aborted;
    seen.lateAnswerSent = true;
    return { late: true };
  }

  @Get('guarded')
  @UseGuards(StuckGuard)
  guarded(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

describe('answerWithin, with HttpErrorFilter', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const adapter = new FastifyAdapter();
    app = await NestFactory.create(SlowModule, adapter, { logger: false });
    answerWithin(adapter.getInstance(), TIMEOUT_MS);
    app.useGlobalFilters(new HttpErrorFilter(app.get(HttpAdapterHost).httpAdapter));
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  it('lets an answer in time through', async () => {
    const response = await fetch(`${url}/fast`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it.each([
    ['handler', 'stuck'],
    ['guard', 'guarded'],
  ])('answers 504 for a request stuck in its %s', async (_stage, route) => {
    const started = Date.now();
    const response = await fetch(`${url}/${route}`);
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'no answer within the request timeout',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
  });

  it('drops an answer that comes too late, and tells the handler its request was abandoned', async () => {
    const response = await fetch(`${url}/late`);
    expect(response.status).toBe(504);
    await sleep(TIMEOUT_MS * 2);
    expect(seen).toEqual({ lateAnswerSent: true, signalAborted: true });
    // The server still answers after dropping the late one.
    expect((await fetch(`${url}/fast`)).status).toBe(200);
  });
});
