import {
  addressEnv,
  brokerEnv,
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
  ...callerEnv(),
  ...brokerEnv(),
  ...databaseEnv(SERVICE_NAME, 'orders'),
  PAYMENT_ADDRESS: addressEnv('localhost:4002').describe('host:port of the payment service.'),
});

export type OrderConfig = z.infer<typeof orderEnv>;

export const validateOrderEnv = (env: Record<string, unknown>): OrderConfig =>
  parseEnv(orderEnv, env);
