export { NatsServer } from './lib/testing/nats-server';
export type { NatsServerOptions } from './lib/testing/nats-server';
