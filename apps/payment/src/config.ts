import {
  addressEnv,
  brokerEnv,
  calleeAudienceEnv,
  callerEnv,
  databaseEnv,
  fileEnv,
  listenerEnv,
  loggingEnv,
  metricsEnv,
  parseEnv,
  serviceEnv,
  serviceTokenEnv,
} from '@acme/bootstrap';
import { z } from 'zod';

export const SERVICE_NAME = 'payment';

/** Every configuration key of the payment service, with its default and meaning. */
export const paymentEnv = z.object({
  ...serviceEnv(SERVICE_NAME),
  ...loggingEnv(),
  ...listenerEnv(4002),
  ...metricsEnv(9402),
  ...callerEnv(SERVICE_NAME),
  ...serviceTokenEnv('orders:settle'),
  ...brokerEnv(),
  ...databaseEnv(SERVICE_NAME, 'payments'),
  DATA_KEYS_FILE: fileEnv(`.dev/keys/${SERVICE_NAME}.data-keys.json`).describe(
    'JSON file of the AES-256-GCM data keys for payment fields at rest: {"current": "<id>", "keys": {"<id>": "<base64 32 bytes>"}}.',
  ),
  ORDER_ADDRESS: addressEnv('localhost:4001').describe('host:port of the order service.'),
  ORDER_AUDIENCE: calleeAudienceEnv('order'),
});

export type PaymentConfig = z.infer<typeof paymentEnv>;

export const validatePaymentEnv = (env: Record<string, unknown>): PaymentConfig =>
  parseEnv(paymentEnv, env);
