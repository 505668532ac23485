import { addressEnv, callerEnv, intEnv, parseEnv, serviceEnv } from '@acme/bootstrap';
import { z } from 'zod';

export const SERVICE_NAME = 'gateway';

/** Every configuration key of the gateway, with its default and meaning. */
export const gatewayEnv = z.object({
  ...serviceEnv(SERVICE_NAME),
  ...callerEnv(),
  HOST: z.string().default('127.0.0.1').describe('Interface the HTTP server listens on.'),
  PORT: intEnv(3000, 1, 65535).describe('HTTP port.'),
  ORDER_ADDRESS: addressEnv('localhost:4001').describe('host:port of the order service.'),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export const validateGatewayEnv = (env: Record<string, unknown>): GatewayConfig => parseEnv(gatewayEnv, env);
