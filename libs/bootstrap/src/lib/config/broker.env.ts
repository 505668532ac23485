import type { BrokerOptions } from '@acme/events';
import { z } from 'zod';
import { inlineOrFile, optionalFileEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import { tlsMaterialFrom } from './transport-security.env';
import type { TransportSecurityEnv } from './transport-security.env';

// TLS only: the broker knows a service by its certificate, and events carry user ids.
const brokerUrl = z
  .url({
    protocol: /^tls$/,
    error: 'must be tls://host:port (the broker is reached over TLS only)',
  })
  .refine((url) => !/^tls:\/\/[^/]*@/.test(url), {
    error: 'must not carry credentials: the service authenticates with its certificate',
  });

/** Keys of a service that publishes or consumes events on the broker. */
export function brokerEnv() {
  return {
    BROKER_URL: brokerUrl
      .optional()
      .describe(
        "NATS JetStream broker for events, `tls://host:port`; the service authenticates with its certificate (TLS_CERT_FILE, TLS_KEY_FILE), the broker's is checked against TLS_CA_FILE. Without it (nor BROKER_URL_FILE), events go straight to their consumer over the mutual-TLS transport.",
      ),
    BROKER_URL_FILE: optionalFileEnv().describe(
      'File holding BROKER_URL instead, as a mounted config. Not both.',
    ),
  };
}

type BrokerEnv = z.infer<z.ZodObject<ReturnType<typeof brokerEnv>>> & TransportSecurityEnv;

/**
 * The broker this service uses, or undefined for none. The certificate and
 * key are read now: a missing file stops start-up naming its key.
 */
export function brokerOptionsFrom(
  config: ConfigReader<BrokerEnv>,
  service: string,
): BrokerOptions | undefined {
  const env = readConfig(config, ['BROKER_URL', 'BROKER_URL_FILE', 'TRUST_DOMAIN']);
  const url = inlineOrFile('BROKER_URL', env.BROKER_URL, env.BROKER_URL_FILE, brokerUrl);
  if (url === undefined) return undefined;
  return { url, service, tls: tlsMaterialFrom(config), trustDomain: env.TRUST_DOMAIN };
}
