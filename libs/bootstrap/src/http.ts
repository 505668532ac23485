// Apart from the main entry point, so that microservices never load Fastify, Swagger or the edge.
export { createHttpApp, httpAppEnv } from './lib/create-http-app';
export type { HttpAppEnv } from './lib/create-http-app';
export { dpopEnv, dpopOptionsFrom } from './lib/dpop.env';
export type { DpopConfig } from './lib/dpop.env';
