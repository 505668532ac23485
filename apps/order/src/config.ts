import {
  addressEnv,
  brokerEnv,
  calleeAudienceEnv,
  callerEnv,
  databaseEnv,
  listenerEnv,
  loggingEnv,
  metricsEnv,
  parseEnv,
  serviceEnv,
} from '@acme/bootstrap';
import { z } from 'zod';

export const SERVICE_NAME = 'order';

/** Every configuration key of the order service, with its default and meaning. */
export const orderEnv = z.object({
  ...serviceEnv(SERVICE_NAME),
  ...loggingEnv(),
  ...listenerEnv(4001),
  ...metricsEnv(9401),
  ...callerEnv(SERVICE_NAME),
  ...brokerEnv(),
  ...databaseEnv(SERVICE_NAME, 'orders'),
  PAYMENT_ADDRESS: addressEnv('localhost:4002').describe('host:port of the payment service.'),
  PAYMENT_AUDIENCE: calleeAudienceEnv('payment'),
});

export type OrderConfig = z.infer<typeof orderEnv>;

export const validateOrderEnv = (env: Record<string, unknown>): OrderConfig =>
  parseEnv(orderEnv, env);
