import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { REQUEST_ID_HEADER } from '@acme/auth';
import type { NextFunction, Request, Response } from 'express';
import { HttpErrorFilter } from './http-error.filter';
import { exitGracefullyOnSignals } from './shutdown';
import { strictValidationPipe } from './validation.pipe';

interface HttpEnv {
  HOST: string;
  PORT: number;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Starts an HTTP app: strict validation, RFC 6750 errors, a request id on
 * every request, graceful shutdown.
 *
 * @example
 * // main.ts
 * void createHttpApp(AppModule, { globalPrefix: 'api' });
 */
export async function createHttpApp(
  appModule: Type<unknown>,
  options: { globalPrefix?: string; exclude?: string[] } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(appModule);
  const env = app.get<ConfigService<HttpEnv, true>>(ConfigService);
  app.use((request: Request, response: Response, next: NextFunction) => {
    const given = request.headers[REQUEST_ID_HEADER];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    request.headers[REQUEST_ID_HEADER] = id;
    response.setHeader(REQUEST_ID_HEADER, id);
    next();
  });
  if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix, { exclude: options.exclude ?? [] });
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter(app.get(HttpAdapterHost).httpAdapter));
  exitGracefullyOnSignals(app);
  const host = env.get('HOST', { infer: true });
  const port = env.get('PORT', { infer: true });
  await app.listen(port, host);
  Logger.log(`listening on http://${host}:${port}`, 'Bootstrap');
  return app;
}
