import { Logger } from '@nestjs/common';
import type { INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost, ModulesContainer, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { REQUEST_ID_HEADER, runRoutesInCallContext } from '@acme/auth';
import {
  acceptJsonBodiesOnly,
  ipFilter,
  IpRanges,
  isIpRange,
  parseAddress,
  urlLengthLimit,
} from '@acme/edge';
import type { RequestFilter } from '@acme/edge';
import { endHttpServerSpan, startHttpServerSpan } from '@acme/telemetry';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import helmet from 'helmet';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import { z } from 'zod';
import { DenialAuditFilter } from './denial-audit.filter';
import { dpopEnv } from './dpop.env';
import { boolEnv, intEnv, listEnv } from './env';
import { HEALTH_ROUTES } from './health.module';
import { HttpErrorFilter } from './http-error.filter';
import { requestLogging, ROOT_LOGGER } from './logging.module';
import { readConfig } from './config/config-reader';
import { benchmarkInsecureFrom } from './config/runtime.env';
import type { RuntimeEnv } from './config/runtime.env';
import type { ConfigReader } from './config/config-reader';
import { METRICS_KEYS } from './config/metrics.env';
import type { MetricsEnv } from './config/metrics.env';
import { recordHttpRequest } from './call.metrics';
import { serveMetricsOf } from './metrics.server';
import { answerWithin } from './request-timeout';
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
      'The server speaks plain HTTP: `true` declares that a proxy in front terminates TLS (a Kubernetes ingress), which allows a non-loopback HOST and requires TRUSTED_PROXIES.',
    ),
    TRUSTED_PROXIES: cidrList('')
      .refine((ranges) => !ranges.some((range) => range.endsWith('/0')), {
        error: 'a /0 range would trust every client to name its own address',
      })
      .describe(
        "Addresses or CIDR ranges of the proxies whose `X-Forwarded-For` gives the client address; empty: the socket address, and `X-Forwarded-For` is ignored. Required with TLS_TERMINATED_BY_PROXY: behind a proxy every socket is the proxy's.",
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
    ...dpopEnv(),
  };
}

export type HttpAppEnv = z.infer<z.ZodObject<ReturnType<typeof httpAppEnv>>>;

const HTTP_KEYS = Object.keys(httpAppEnv(0)) as (keyof HttpAppEnv)[];

/**
 * Starts an HTTP app on Fastify behind a safe edge, in this order: request id
 * and request log, security headers (helmet), global IP rules, URL length, CORS
 * from an allow-list; JSON-only bodies of bounded size; then strict
 * validation, RFC 6750 errors with an audit line per denial, a 504 for a
 * request without an answer in time, every route run in the caller's call
 * context (what `ServiceClient` forwards), OpenAPI at /docs, health probes
 * outside the prefix, graceful shutdown, and Prometheus metrics on a port of
 * their own (never the public one). The app's schema must include
 * {@link httpAppEnv}, `metricsEnv` and `runtimeEnv` (`TConfig`, the app's
 * config type, is checked for them); the app imports `LoggingModule`.
 *
 * Fastify, not Express: with the same edge, the gateway spent a third less CPU
 * per request on it (docs/benchmarks-journal.md).
 *
 * @example
 * // main.ts
 * void createHttpApp<GatewayConfig>(AppModule, { globalPrefix: 'api', openApi: { title: 'Gateway' } });
 */
export async function createHttpApp<TConfig extends HttpAppEnv & MetricsEnv & RuntimeEnv>(
  appModule: Type<unknown>,
  options: { globalPrefix?: string; openApi?: { title: string; version?: string } } = {},
): Promise<INestApplication> {
  // Fastify fixes `trustProxy` when it is created, before the config is read:
  // it asks this list, filled in below. Until then no proxy is trusted.
  let trustedProxies = IpRanges.parse([]);
  const adapter = new FastifyAdapter({
    trustProxy: (address: string) => trustedProxies.contains(address),
  });
  // Start-up lines wait for pino, so that they are JSON too.
  const app = await NestFactory.create<NestFastifyApplication>(appModule, adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  const config: ConfigReader<HttpAppEnv & MetricsEnv & RuntimeEnv> =
    app.get<ConfigService<TConfig, true>>(ConfigService);
  const env = readConfig(config, HTTP_KEYS);
  refuseCleartextOnNetwork(env.HOST, env.TLS_TERMINATED_BY_PROXY);
  refuseUntrustedProxy(env.TLS_TERMINATED_BY_PROXY, env.TRUSTED_PROXIES);

  // The client address (request.ip) is the socket's unless the peer is a trusted proxy.
  trustedProxies = IpRanges.parse(env.TRUSTED_PROXIES);
  const logging = requestLogging(app.get<Pino>(ROOT_LOGGER));
  const securityHeaders = helmet();
  const filters: RequestFilter[] = [
    ipFilter({ allow: env.IP_ALLOW, deny: env.IP_DENY }),
    urlLengthLimit(env.MAX_URL_LENGTH),
  ];
  // Runs before CORS and Nest's middleware; a refusal goes to the exception filters below.
  adapter.setOnRequestHook(
    (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      logging.onRequest(request, reply);
      startHttpServerSpan(request.raw, () =>
        securityHeaders(request.raw, reply.raw, (error?: unknown) => {
          if (error) return done(error as Error);
          for (const filter of filters) {
            const refusal = filter(request);
            if (refusal) return done(refusal);
          }
          done();
        }),
      );
    },
  );
  adapter.setOnResponseHook(
    (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      logging.onResponse(request, reply);
      recordHttpRequest(request, reply);
      endHttpServerSpan(request.raw, reply.statusCode, request.routeOptions.url);
      done();
    },
  );
  // Never reflect an arbitrary origin: a listed one gets CORS headers (with credentials), any
  // other none. An origin function, not an options delegator, whose options would be
  // normalised again for every request.
  app.enableCors({
    origin: (origin, decide) =>
      decide(null, origin !== undefined && env.CORS_ORIGINS.includes(origin) ? origin : false),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'DPoP', REQUEST_ID_HEADER],
    exposedHeaders: [
      REQUEST_ID_HEADER,
      // A browser client reads the DPoP challenge and the nonce to retry with.
      'WWW-Authenticate',
      'DPoP-Nonce',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
    ],
    maxAge: 600,
  });
  acceptJsonBodiesOnly(adapter.getInstance(), env.MAX_BODY_BYTES);
  answerWithin(adapter.getInstance(), env.REQUEST_TIMEOUT_MS);
  // Before any route is added: it wraps each route as Fastify adds it.
  if (!benchmarkInsecureFrom(config)) runRoutesInCallContext(adapter.getInstance());

  if (options.globalPrefix) {
    app.setGlobalPrefix(options.globalPrefix, { exclude: Object.values(HEALTH_ROUTES) });
  }
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(
    new DenialAuditFilter(new HttpErrorFilter(app.get(HttpAdapterHost).httpAdapter)),
  );
  if (env.API_DOCS && options.openApi) serveOpenApi(app, options.openApi);
  exitGracefullyOnSignals(app);

  const server = app.getHttpServer();
  // A client gets this long to send its request (slow-loris), headers included.
  server.requestTimeout = env.REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(env.REQUEST_TIMEOUT_MS, 60_000);
  await app.listen(env.PORT, env.HOST);
  Logger.log(`listening on http://${env.HOST}:${env.PORT}`, 'Bootstrap');
  await serveMetricsOf(app, readConfig(config, METRICS_KEYS));
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
 * Behind a proxy that terminates TLS every connection comes from the proxy: without
 * trusting its `X-Forwarded-For`, all clients share one address, so one per-address
 * rate limit bucket and IP rules that see only the proxy.
 */
function refuseUntrustedProxy(tlsTerminatedByProxy: boolean, trustedProxies: string[]): void {
  if (!tlsTerminatedByProxy || trustedProxies.length > 0) return;
  throw new Error(
    'Invalid configuration:\n  TRUSTED_PROXIES: empty while TLS_TERMINATED_BY_PROXY=true; ' +
      "list the addresses of the proxy in front (e.g. the ingress controller's pod range), " +
      'or every client has the address of the proxy',
  );
}

/**
 * The OpenAPI document of every route, with the bearer scheme the auth decorators refer to.
 * Its packages are loaded here, only with API_DOCS: megabytes of heap otherwise.
 */
function serveOpenApi(app: INestApplication, info: { title: string; version?: string }): void {
  const { DocumentBuilder, SwaggerModule } =
    require('@nestjs/swagger') as typeof import('@nestjs/swagger');
  const { documentAuthRules } = require('./openapi-auth') as typeof import('./openapi-auth');
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setVersion(info.version ?? '1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  documentAuthRules(
    [...app.get(ModulesContainer).values()].flatMap((module) =>
      [...module.controllers.values()].map((wrapper) => wrapper.metatype as Type<unknown>),
    ),
  );
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, config), {
    swaggerOptions: { showExtensions: true },
  });
}
