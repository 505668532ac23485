import { NestFactory } from '@nestjs/core';
import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Provider } from 'oidc-provider';
import { traceHttpRequests } from '@acme/telemetry';
import { AppModule } from './app.module';
import { NEST_ROUTES } from './app.constants';
import type { AuthServerConfig } from './config';
import { OIDC_PROVIDER } from './oidc/oidc.constants';

const nestRoots = new Set<string>(Object.values(NEST_ROUTES));

/**
 * The auth server app, not listening yet. oidc-provider serves the standard paths at the root of the
 * issuer (/.well-known/openid-configuration, /auth, /token, /jwks ...); the paths in NEST_ROUTES go
 * to Nest controllers. It logs through the shared LoggingModule unless `options.logger` is given.
 *
 * Not `createHttpApp` (@acme/bootstrap): its Fastify edge takes JSON bodies only, under a global
 * prefix, while oidc-provider needs the raw Node request at the issuer's root (form-encoded posts,
 * its own body parsing, CORS and errors per the OAuth specs).
 */
export async function createAuthServer(
  config: AuthServerConfig,
  options: NestApplicationOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: options.logger === undefined,
    ...options,
  });
  if (options.logger === undefined) {
    app.useLogger(app.get(PinoNestLogger));
    // Else Nest keeps buffering until the app has started, and a start-up failure is never logged.
    app.flushLogs();
  }
  if (config.trustProxy) app.set('trust proxy', 1);

  app.use(traceHttpRequests);
  const oidc = app.get<Provider>(OIDC_PROVIDER).callback();
  // Registered before Nest's routes and body parsers, so oidc-provider reads its own request bodies.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (nestRoots.has(req.path.split('/')[1])) next();
    else void oidc(req, res);
  });
  return app;
}
