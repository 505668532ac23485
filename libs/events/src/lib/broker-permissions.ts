import {
  deadLetterStreamOf,
  deadLetterSubjectOf,
  durableOf,
  inboxPrefixOf,
  producerOf,
  publishSubjectsOf,
  streamOf,
} from './event-names';

/** One event subject, its producer and its consumers (`EVENT_ROUTES` of `@acme/contracts`). */
export interface EventRouteSpec {
  subject: string;
  producer: string;
  consumers: readonly string[];
}

/** What one service may do on the broker: nats-server's `permissions` of its user. */
export interface BrokerPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/**
 * The least a service needs on the broker, and nothing else (deny by default):
 * a producer publishes its own `events.<service>.>` and manages its own stream;
 * a consumer creates, reads and acknowledges only its own durable consumers,
 * and keeps its own dead letters. Replies come only to its own inbox. No
 * service may subscribe to an event subject directly.
 *
 * @example
 * brokerPermissions('payment', Object.values(EVENT_ROUTES));
 */
export function brokerPermissions(
  service: string,
  routes: readonly EventRouteSpec[],
): BrokerPermissions {
  const publish = new Set<string>();
  const api = (verb: string, stream: string, name?: string) =>
    publish.add(`$JS.API.${verb}.${stream}${name ? `.${name}` : ''}`);
  const ownStream = (stream: string) => {
    api('STREAM.INFO', stream);
    api('STREAM.CREATE', stream);
    api('STREAM.UPDATE', stream);
  };
  for (const route of routes) {
    if (producerOf(route.subject) !== route.producer) {
      throw new Error(`event ${route.subject} must be published by ${producerOf(route.subject)}`);
    }
    if (route.producer === service) {
      publish.add(publishSubjectsOf(service));
      ownStream(streamOf(service));
    }
    if (route.consumers.includes(service)) {
      const stream = streamOf(route.producer);
      const durable = durableOf(service, route.subject);
      // Only the create request that names the filter (the server checks the config against
      // it): a consumer cannot widen its durable to other events of the stream.
      api('CONSUMER.CREATE', stream, `${durable}.${route.subject}`);
      api('CONSUMER.INFO', stream, durable);
      api('CONSUMER.MSG.NEXT', stream, durable);
      publish.add(`$JS.ACK.${stream}.${durable}.>`);
      publish.add(deadLetterSubjectOf(service, route.subject));
      ownStream(deadLetterStreamOf(service));
    }
  }
  if (publish.size === 0) throw new Error(`${service} neither publishes nor consumes events`);
  publish.add('$JS.API.INFO');
  return {
    publish: { allow: [...publish].sort() },
    subscribe: { allow: [`${inboxPrefixOf(service)}.>`] },
  };
}

/** Every service that publishes or consumes an event. */
export function brokerServicesOf(routes: readonly EventRouteSpec[]): string[] {
  return [...new Set(routes.flatMap((route) => [route.producer, ...route.consumers]))].sort();
}

/**
 * nats-server's `authorization` block: one user per service that takes part
 * in events (any other, the gateway say, cannot connect), and one per
 * operator (JetStream API only, to inspect dead letters), named by the
 * SPIFFE ID in its certificate (`verify_and_map`), so that the credential a
 * service presents to the broker is the certificate it already has.
 *
 * @example
 * writeFileSync('auth.conf', renderBrokerAuthorization('acme.internal', Object.values(EVENT_ROUTES)));
 */
export function renderBrokerAuthorization(
  trustDomain: string,
  routes: readonly EventRouteSpec[],
  operators: readonly string[] = [],
): string {
  const users = [
    ...brokerServicesOf(routes).map((service) => ({
      user: `spiffe://${trustDomain}/${service}`,
      permissions: brokerPermissions(service, routes),
    })),
    // People and tools that inspect streams and dead letters: the JetStream API, nothing else.
    ...operators.map((operator) => ({
      user: `spiffe://${trustDomain}/${operator}`,
      permissions: {
        publish: { allow: ['$JS.API.>'] },
        subscribe: { allow: [`${inboxPrefixOf(operator)}.>`] },
      },
    })),
  ];
  // JSON is valid nats-server configuration syntax.
  return `authorization ${JSON.stringify({ users }, null, 2)}\n`;
}
