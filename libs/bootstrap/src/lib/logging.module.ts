import { randomUUID } from 'node:crypto';
import type { DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { currentCallMeta, REQUEST_ID_HEADER } from '@acme/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import type { Params } from 'nestjs-pino';
import {
  destination as fileDescriptor,
  pino,
  stdSerializers,
  stdTimeFunctions,
  symbols,
  transport,
} from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { z } from 'zod';
import {
  REDACTED,
  REDACTED_PATHS,
  redactSecrets,
  scrubSecrets,
  withoutSecretFields,
} from './log-redaction';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Keys of every service's logging. */
export function loggingEnv() {
  return {
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('Lowest level written to stdout.'),
    LOG_FORMAT: z
      .enum(LOG_FORMATS)
      .optional()
      .describe(
        '`json`: one JSON object per line, for log collectors and tests (the default unless NODE_ENV=development). `pretty`: one readable line per entry, naming the service (the default with NODE_ENV=development; needs the `pino-pretty` devDependency, absent from the images).',
      ),
  };
}

type LoggingConfig = z.infer<z.ZodObject<ReturnType<typeof loggingEnv>>> & { NODE_ENV?: string };

/**
 * `LOG_FORMAT` when set; otherwise readable for a person in development (NODE_ENV unset counts as
 * development, as in `serviceEnv`), JSON everywhere else.
 */
export function logFormatOf(config: Pick<LoggingConfig, 'LOG_FORMAT' | 'NODE_ENV'>): LogFormat {
  return (
    config.LOG_FORMAT ?? ((config.NODE_ENV ?? 'development') === 'development' ? 'pretty' : 'json')
  );
}

/** One style for every service: time, level, service, Nest's context, message, other fields. */
const PRETTY_OPTIONS = {
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname,service,context',
  messageFormat: '{service}{if context} [{context}]{end}: {msg}',
  singleLine: true,
};

/**
 * Where `LOG_FORMAT=pretty` writes: pino-pretty in a worker thread (pino's transport), so the
 * formatting costs the service's own thread nothing. Redaction has happened before, in pino.
 *
 * @param destination the file descriptor or the path of the file the readable lines go to.
 */
export function prettyDestination(destination: number | string = 1): DestinationStream {
  try {
    return transport({
      target: 'pino-pretty',
      // Colours on a terminal as pino-pretty decides (NO_COLOR, FORCE_COLOR), never in a file.
      options: {
        ...PRETTY_OPTIONS,
        destination,
        ...(typeof destination === 'string' && { colorize: false }),
      },
    });
  } catch (error) {
    throw new Error(
      `Invalid configuration:\n  LOG_FORMAT: pretty needs the pino-pretty package, a development dependency; use json (${(error as Error).message})`,
    );
  }
}

/** The process's pino logger, for `createHttpApp`'s request logging. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * JSON logs through pino: credentials redacted from every line, and the id of
 * the request or message being handled on every line logged while handling it.
 * Nest's `Logger` writes here once `app.useLogger(app.get(Logger))` (nestjs-pino).
 */
export function createRootLogger(
  service: string,
  level: LoggerOptions['level'],
  // Asynchronous writes: a line costs no system call on the request's path;
  // pino flushes what is pending when the process exits.
  destination: DestinationStream = fileDescriptor({ dest: 1, sync: false }),
): Logger {
  const logger = pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      formatters: { log: redactSecrets },
      serializers: {
        err: (error: Error) => {
          const serialized = stdSerializers.err(error);
          return withoutSecretFields({
            ...serialized,
            message: scrubSecrets(serialized.message),
            stack: scrubSecrets(serialized.stack),
          });
        },
      },
      hooks: {
        logMethod(args, method) {
          // The first argument, an object, is the line's own (formatters.log); the others
          // are interpolated into the message.
          const scrubbed = args.map((arg: unknown, index) =>
            typeof arg === 'string'
              ? scrubSecrets(arg)
              : index > 0 && arg !== null && typeof arg === 'object'
                ? redactSecrets(arg)
                : arg,
          );
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      // While a request or message is handled, the id comes from the call context; a request's
      // own line (its child logger) has it bound already.
      mixin: (_object, _level, logger) => {
        const requestId = currentCallMeta()?.requestId;
        return requestId && !hasBoundRequestId(logger) ? { requestId } : {};
      },
    },
    destination,
  );
  // pino's formatters.bindings sees the root's bindings only: a child's are redacted here.
  // Every child inherits this method from the root, grandchildren too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}

/**
 * Whether a child logger (an HTTP request's) carries the id already. Reads
 * pino's serialised bindings: `logger.bindings()` parses them on every line.
 */
function hasBoundRequestId(logger: Logger): boolean {
  return (
    (logger as unknown as Record<symbol, string | undefined>)[symbols.chindingsSym]?.includes(
      '"requestId":',
    ) ?? false
  );
}

/**
 * Logging for a service: nestjs-pino over {@link createRootLogger}, at
 * `LOG_LEVEL`, in `LOG_FORMAT` (see {@link logFormatOf}). The line per request or message comes from `createHttpApp`
 * (`requestLogging()`) or the transport (`SecureTcpServer`).
 *
 * @example
 * imports: [ConfigModule.forRoot(...), LoggingModule.forRoot(SERVICE_NAME), ...]
 */
export class LoggingModule {
  static forRoot(service: string): DynamicModule {
    return LoggerModule.forRootAsync({
      providers: [
        {
          provide: ROOT_LOGGER,
          inject: [ConfigService],
          useFactory: (config: ConfigService<LoggingConfig, true>) =>
            createRootLogger(
              service,
              config.get('LOG_LEVEL', { infer: true }),
              logFormatOf({
                LOG_FORMAT: config.get('LOG_FORMAT', { infer: true }),
                NODE_ENV: config.get('NODE_ENV', { infer: true }),
              }) === 'pretty'
                ? prettyDestination()
                : undefined,
            ),
        },
      ],
      inject: [ROOT_LOGGER],
      // Nest's Logger writes to the root logger, whose mixin names the request being handled
      // from the call context, as for messages. nestjs-pino's middleware is not installed: it
      // would run a second AsyncLocalStorage per request, whose hooks node 20 runs on every
      // promise, to hand Nest's Logger the request's child logger for the same id.
      // requestLogging(), installed first by createHttpApp, writes each request's own line.
      useFactory: (logger: Logger): Params => ({
        pinoHttp: { logger },
        useExisting: true,
        forRoutes: [],
      }),
    });
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Fastify hooks for every HTTP request, run by `createHttpApp` before anything
 * else. `onRequest`: a well-formed `X-Request-Id` is kept, anything else
 * replaced by a UUID; the id is returned to the client, bound to the request's
 * own logger, named on every line logged while it is handled (the root logger's
 * mixin reads it from the call context), and forwarded with every message it causes.
 * `onResponse`: one line per request (method, path, client address, status,
 * duration, request id).
 */
export function requestLogging(logger: Logger) {
  return {
    onRequest(request: FastifyRequest, reply: FastifyReply): void {
      const given = request.headers[REQUEST_ID_HEADER];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      request.headers[REQUEST_ID_HEADER] = id;
      reply.header(REQUEST_ID_HEADER, id);
      // Fastify's own logger is off: this child writes the request's line.
      request.log = logger.child({ requestId: id });
    },
    onResponse(request: FastifyRequest, reply: FastifyReply): void {
      const { statusCode } = reply;
      const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
      request.log[level](
        {
          req: { method: request.method, url: scrubSecrets(request.url), ip: request.ip },
          res: { statusCode },
          responseTime: Math.round(reply.elapsedTime),
        },
        `${request.method} ${statusCode}`,
      );
    },
  };
}
