import type { NatsConnection } from 'nats';
import type { TlsMaterial } from '@acme/transport';
import { inboxPrefixOf } from './event-names';
import { nats } from './nats-client';

/** Where the broker is and who this service is to it. */
export interface BrokerOptions {
  /** `tls://host:port` of nats-server with JetStream. */
  url: string;
  /** This service's name: its subjects, streams and inbox. */
  service: string;
  /** This service's certificate and key (its broker credential and event signing key) and the CA. */
  tls: TlsMaterial;
  trustDomain: string;
}

/**
 * Connects to the broker over TLS, authenticated by this service's certificate:
 * nats-server maps its SPIFFE ID to the user whose permissions it gets
 * (`verify_and_map`). Reconnects without end: the outbox and the durable
 * consumers pick up where they were once the broker is back.
 *
 * @example
 * const connection = await connectBroker({ url: 'tls://nats:4222', service: 'payment', tls, trustDomain });
 */
export function connectBroker(options: BrokerOptions): Promise<NatsConnection> {
  return nats().connect({
    servers: options.url,
    name: options.service,
    tls: {
      ca: options.tls.ca.toString('utf8'),
      cert: options.tls.cert.toString('utf8'),
      key: options.tls.key.toString('utf8'),
    },
    inboxPrefix: inboxPrefixOf(options.service),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
}
