import { Body, Controller, Get, Injectable, Module, Post, UseGuards } from '@nestjs/common';
import type { CanActivate, INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { HttpErrorFilter } from './http-error.filter';
import { answerWithin } from './request-timeout';

const TIMEOUT_MS = 200;
const never = () => new Promise<never>(() => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the late route ran to its end: its work is abandoned, not stopped. */
const seen = { lateAnswerSent: false };

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
  async late(): Promise<{ late: true }> {
    await sleep(TIMEOUT_MS * 2);
    seen.lateAnswerSent = true;
    return { late: true };
  }

  // Requests with a body: Fastify's own handlerTimeout stops timing them once the body is read.
  @Post('stuck')
  stuckWithBody(): Promise<never> {
    return never();
  }

  @Post('late')
  async lateWithBody(@Body() body: unknown): Promise<unknown> {
    await sleep(TIMEOUT_MS * 2);
    return body;
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
    ['handler', 'GET', 'stuck'],
    ['guard', 'GET', 'guarded'],
    ['handler, with a body', 'POST', 'stuck'],
    ['handler that answers late, with a body', 'POST', 'late'],
  ])('answers 504 for a request stuck in its %s', async (_stage, method, route) => {
    const started = Date.now();
    const response = await fetch(`${url}/${route}`, {
      method,
      ...(method === 'POST' && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'book' }),
      }),
    });
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'no answer within the request timeout',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
  });

  it('drops an answer that comes too late', async () => {
    const response = await fetch(`${url}/late`);
    expect(response.status).toBe(504);
    await sleep(TIMEOUT_MS * 2);
    expect(seen).toEqual({ lateAnswerSent: true });
    // The server still answers after dropping the late one.
    expect((await fetch(`${url}/fast`)).status).toBe(200);
  });
});
