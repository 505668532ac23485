import {
  HttpException,
  InternalServerErrorException,
  Logger,
  PayloadTooLargeException,
} from '@nestjs/common';
import type { INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { REQUEST_ID_HEADER } from '@acme/auth';
import {
  ipFilter,
  isIpRange,
  jsonBodiesOnly,
  parseAddress,
  RequestTimeoutInterceptor,
  urlLengthLimit,
} from '@acme/edge';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import helmet from 'helmet';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import { z } from 'zod';
import { httpDenial, isDenial, DenialAuditFilter } from './denial-audit.filter';
import { boolEnv, intEnv, listEnv } from './env';
import { HEALTH_ROUTES } from './health.module';
import { HttpErrorFilter } from './http-error.filter';
import { httpLogger, requestId, ROOT_LOGGER } from './logging.module';
import { readConfig } from './service-env';
import type { ConfigReader } from './service-env';
import { exitGracefullyOnSignals } from './shutdown';
import { strictValidationPipe } from './validation.pipe';

const cidrList = (defaultValue: string) =>
  listEnv(defaultValue).superRefine((ranges, context) => {
    for (const range of ranges.filter((r) => !isIpRange(r))) {
      context.addIssue({
        code: 'custom',
        message: `"${range}" is not an IPv4 or IPv6 address or CIDR range`,
      });
    }
  });

const originList = (defaultValue: string) =>
  listEnv(defaultValue).superRefine((origins, context) => {
    for (const origin of origins.filter(
      (o) => !/^https?:\/\/[^/*\s]+$/.test(o) || URL.parse(o)?.origin !== o,
    )) {
      context.addIssue({
        code: 'custom',
        message: `"${origin}" is not an origin like https://app.example.com (no path, no wildcard)`,
      });
    }
  });

/**
 * Keys of every app started by {@link createHttpApp}: where it listens and the
 * limits of its edge. Spread them into the app's schema.
 */
export function httpAppEnv(defaultPort: number) {
  return {
    HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe(
        'Interface the HTTP server listens on. Anything but loopback needs TLS_TERMINATED_BY_PROXY.',
      ),
    PORT: intEnv(defaultPort, 1, 65535).describe('HTTP port.'),
    TLS_TERMINATED_BY_PROXY: boolEnv(false).describe(
      'The server speaks plain HTTP: `true` declares that a proxy in front terminates TLS (a Kubernetes ingress), which allows a non-loopback HOST.',
    ),
    TRUSTED_PROXIES: cidrList('')
      .refine((ranges) => !ranges.some((range) => range.endsWith('/0')), {
        error: 'a /0 range would trust every client to name its own address',
      })
      .describe(
        'Addresses or CIDR ranges of the proxies whose `X-Forwarded-For` gives the client address; empty: the socket address, and `X-Forwarded-For` is ignored.',
      ),
    IP_ALLOW: cidrList('').describe(
      'If not empty, only clients in these addresses or CIDR ranges (IPv4, IPv6) are served; others get 403.',
    ),
    IP_DENY: cidrList('').describe(
      'Clients in these addresses or CIDR ranges get 403, whatever IP_ALLOW says.',
    ),
    CORS_ORIGINS: originList('http://localhost:4200').describe(
      'Origins browsers may call from, with credentials; any other origin gets no CORS headers. Empty: none.',
    ),
    MAX_BODY_BYTES: intEnv(100 * 1024, 1, 64 * 1024 * 1024).describe(
      'Largest request body accepted; larger gets 413.',
    ),
    MAX_URL_LENGTH: intEnv(2048, 64, 65_536).describe(
      'Longest request target (path and query) accepted; longer gets 414.',
    ),
    REQUEST_TIMEOUT_MS: intEnv(10_000, 100, 300_000).describe(
      'A request without an answer by then gets 504; also the time a client has to send the whole request.',
    ),
    API_DOCS: boolEnv(true).describe('Serve the OpenAPI document at /docs (UI) and /docs-json.'),
  };
}

export type HttpAppEnv = z.infer<z.ZodObject<ReturnType<typeof httpAppEnv>>>;

const HTTP_KEYS = Object.keys(httpAppEnv(0)) as (keyof HttpAppEnv)[];

/**
 * Starts an HTTP app behind a safe edge, in this order: request id, JSON
 * request log, global IP rules, security headers (helmet), CORS from an
 * allow-list, URL length, JSON-only bodies of bounded size; then strict
 * validation, RFC 6750 errors with an audit line per denial, a request timeout,
 * OpenAPI at /docs, health probes outside the prefix, graceful shutdown. The
 * app's schema must include {@link httpAppEnv} (`TConfig`, the app's config
 * type, is checked for it); the app imports `LoggingModule`.
 *
 * @example
 * // main.ts
 * void createHttpApp<GatewayConfig>(AppModule, { globalPrefix: 'api', openApi: { title: 'Gateway' } });
 */
export async function createHttpApp<TConfig extends HttpAppEnv>(
  appModule: Type<unknown>,
  options: { globalPrefix?: string; openApi?: { title: string; version?: string } } = {},
): Promise<INestApplication> {
  // Start-up lines wait for pino, so that they are JSON too.
  const app = await NestFactory.create<NestExpressApplication>(appModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  const config: ConfigReader<HttpAppEnv> = app.get<ConfigService<TConfig, true>>(ConfigService);
  const env = readConfig(config, HTTP_KEYS);
  refuseCleartextOnNetwork(env.HOST, env.TLS_TERMINATED_BY_PROXY);

  // The client address (request.ip) is the socket's unless the peer is a trusted proxy.
  app.set('trust proxy', env.TRUSTED_PROXIES.length > 0 ? env.TRUSTED_PROXIES : false);
  app.use(
    requestId(),
    httpLogger(app.get<Pino>(ROOT_LOGGER)),
    ipFilter({ allow: env.IP_ALLOW, deny: env.IP_DENY }),
    helmet(),
  );
  app.enableCors((request: Request, callback) => {
    // Never reflect an arbitrary origin: a listed one gets CORS headers (with credentials), any other none.
    const listed = env.CORS_ORIGINS.includes(request.header('origin') ?? '');
    callback(null, {
      origin: listed ? env.CORS_ORIGINS : false,
      credentials: listed,
      allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER],
      exposedHeaders: [
        REQUEST_ID_HEADER,
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
      ],
      maxAge: 600,
    });
  });
  app.use(urlLengthLimit(env.MAX_URL_LENGTH), jsonBodiesOnly());
  app.useBodyParser('json', {
    limit: env.MAX_BODY_BYTES,
    type: ['application/json', 'application/*+json'],
  });
  app.use(answerEdgeErrors(env.MAX_BODY_BYTES));

  if (options.globalPrefix)
    app.setGlobalPrefix(options.globalPrefix, { exclude: Object.values(HEALTH_ROUTES) });
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(
    new DenialAuditFilter(new HttpErrorFilter(app.get(HttpAdapterHost).httpAdapter)),
  );
  app.useGlobalInterceptors(new RequestTimeoutInterceptor(env.REQUEST_TIMEOUT_MS));
  if (env.API_DOCS && options.openApi) serveOpenApi(app, options.openApi);
  exitGracefullyOnSignals(app);

  const server = app.getHttpServer() as Server;
  // A client gets this long to send its request (slow-loris), headers included.
  server.requestTimeout = env.REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(env.REQUEST_TIMEOUT_MS, 60_000);
  await app.listen(env.PORT, env.HOST);
  Logger.log(`listening on http://${env.HOST}:${env.PORT}`, 'Bootstrap');
  return app;
}

/** Plain HTTP on a network interface would send tokens in clear text, unless TLS ends just in front. */
function refuseCleartextOnNetwork(host: string, tlsTerminatedByProxy: boolean): void {
  const loopback = host === 'localhost' || parseAddress(host)?.range() === 'loopback';
  if (loopback || tlsTerminatedByProxy) return;
  throw new Error(
    `Invalid configuration:\n  HOST: ${host} is not a loopback address and this server speaks plain HTTP; ` +
      'set TLS_TERMINATED_BY_PROXY=true if a proxy in front of it terminates TLS',
  );
}

/**
 * Answers what the Express middleware above refused (address, URL, media type,
 * body size or syntax) the way Nest answers errors: JSON, no stack, and an
 * audit line for a refused address.
 */
function answerEdgeErrors(maxBodyBytes: number) {
  const log = new Logger('Audit');
  return (error: unknown, request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    const exception = asHttpException(error, maxBodyBytes);
    if (isDenial(exception)) log.warn(httpDenial(request, exception), 'access denied');
    if (exception.getStatus() >= 500) Logger.error(error, 'HttpEdge');
    response.status(exception.getStatus()).json(exception.getResponse());
  };
}

function asHttpException(error: unknown, maxBodyBytes: number): HttpException {
  if (error instanceof HttpException) return error;
  // body-parser's errors: a status, and a message safe to show when `expose` is set.
  const { status, expose, message } = error as {
    status?: number;
    expose?: boolean;
    message?: string;
  };
  if (status === 413)
    return new PayloadTooLargeException(`request bodies are limited to ${maxBodyBytes} bytes`);
  if (typeof status === 'number' && status >= 400 && status < 500 && expose)
    return new HttpException(message ?? 'bad request', status);
  return new InternalServerErrorException();
}

/** The OpenAPI document of every route, with the bearer scheme the auth decorators refer to. */
function serveOpenApi(app: INestApplication, info: { title: string; version?: string }): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setVersion(info.version ?? '1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, config), {
    swaggerOptions: { showExtensions: true },
  });
}
