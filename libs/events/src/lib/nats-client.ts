import type * as Nats from 'nats';

let client: typeof Nats | undefined;

/**
 * The NATS client library, loaded on first use: a service that takes part in events but
 * runs without a broker (the default, `npm start`) never loads it, some 3 MB of heap.
 */
export function nats(): typeof Nats {
  client ??= require('nats') as typeof Nats;
  return client;
}
