import {
  addressEnv,
  calleeAudienceEnv,
  callerEnv,
  inlineOrFile,
  intEnv,
  loggingEnv,
  metricsEnv,
  optionalFileEnv,
  parseEnv,
  serviceEnv,
} from '@acme/bootstrap';
import type { ConfigReader } from '@acme/bootstrap';
import { httpAppEnv } from '@acme/bootstrap/http';
import { isIpRange } from '@acme/edge';
import { MAX_ENVELOPE_OVERHEAD_BYTES } from '@acme/transport';
import type { EdgeOptions, RedisStoreOptions } from '@acme/edge';
import { z } from 'zod';

export const SERVICE_NAME = 'gateway';

/** `name=cidr,cidr;name=cidr`: the CIDR lists `@IpAllow(name)` refers to. */
const namedCidrLists = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((value, context) => {
      const lists: Record<string, string[]> = {};
      for (const entry of value
        .split(';')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const [name = '', ranges = ''] = entry.split('=', 2);
        if (!/^[a-z][a-z0-9-]*$/.test(name.trim()) || !entry.includes('=')) {
          context.addIssue({
            code: 'custom',
            message: `"${entry}" is not name=cidr,cidr (name in lowercase)`,
          });
          continue;
        }
        lists[name.trim()] = ranges
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        for (const range of lists[name.trim()].filter((r) => !isIpRange(r))) {
          context.addIssue({
            code: 'custom',
            message: `"${range}" in list ${name.trim()} is not an IPv4 or IPv6 address or CIDR range`,
          });
        }
      }
      return lists;
    });

const redisUrl = z.url({ protocol: /^rediss?$/ });

/** Every configuration key of the gateway, with its default and meaning. */
export const gatewayEnv = z
  .object({
    // The public API's audience: tokens of the web and command-line clients, for the gateway alone.
    ...serviceEnv(SERVICE_NAME, 'urn:acme:api'),
    ...loggingEnv(),
    ...callerEnv(SERVICE_NAME),
    ...httpAppEnv(3000),
    ...metricsEnv(9400),
    ORDER_ADDRESS: addressEnv('localhost:4001').describe('host:port of the order service.'),
    ORDER_AUDIENCE: calleeAudienceEnv('order'),
    IP_ALLOW_LISTS: namedCidrLists('admin=127.0.0.0/8,::1/128').describe(
      "Named CIDR lists for `@IpAllow(name)` routes, as `name=cidr,cidr;name=cidr`. `admin` guards /api/admin/**: loopback only until you list your operators' ranges.",
    ),
    RATE_LIMIT_REPLENISH_RATE: z.coerce
      .number()
      .positive()
      .max(1_000_000)
      .default(10)
      .describe(
        "Tokens per second added to each caller's bucket (a caller: the token's `sub`, a service's `client_id`, or the client address on public routes).",
      ),
    RATE_LIMIT_BURST_CAPACITY: intEnv(20, 1, 1_000_000).describe(
      "Size of each caller's bucket: the burst it may send at once; over it, 429 with `Retry-After`.",
    ),
    RATE_LIMIT_PER_ADDRESS_REPLENISH_RATE: z.coerce
      .number()
      .positive()
      .max(1_000_000)
      .default(100)
      .describe(
        "Tokens per second added to each client address's bucket, spent by every request before its token is verified, so that a flood of forged tokens is refused (429) without a signature check each. Larger than a caller's budget: users behind one NAT share it.",
      ),
    RATE_LIMIT_PER_ADDRESS_BURST_CAPACITY: intEnv(200, 1, 1_000_000).describe(
      "Size of each client address's bucket; over it, 429 with `Retry-After` before any token is looked at.",
    ),
    RATE_LIMIT_ON_REDIS_ERROR: z
      .enum(['local', 'reject'])
      .default('local')
      .describe(
        "While Redis is unreachable: `local` limits with each replica's own buckets (fail open, still limited), `reject` answers 503 (fail closed), except to the health probes, which stay limited per replica (a Redis outage must not fail liveness). Either way Redis takes over again when it answers.",
      ),
    REDIS_URL: redisUrl
      .optional()
      .describe(
        'Redis holding the rate-limit buckets and the DPoP replay cache, shared by every replica (`redis://` or `rediss://`, credentials allowed, never logged). Unset (and no REDIS_URL_FILE): each replica limits, and remembers DPoP proofs, in memory.',
      ),
    REDIS_URL_FILE: optionalFileEnv().describe(
      'File holding the Redis URL instead of REDIS_URL, as a mounted secret: the URL carries a password. Not both.',
    ),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]*$/)
      .default('gateway:')
      .describe('Prefix of every key the gateway writes to Redis.'),
    REDIS_TIMEOUT_MS: intEnv(500, 10, 10_000).describe(
      'A Redis command not answered by then counts as Redis unreachable.',
    ),
  })
  .refine((env) => env.MAX_BODY_BYTES + MAX_ENVELOPE_OVERHEAD_BYTES <= env.MAX_FRAME_BYTES, {
    path: ['MAX_BODY_BYTES'],
    // Else a large body passes the edge and then fails as a broken call to the service.
    message: `a body of MAX_BODY_BYTES must fit in a frame of MAX_FRAME_BYTES with ${MAX_ENVELOPE_OVERHEAD_BYTES} bytes to spare for the token and envelope`,
  });

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export const validateGatewayEnv = (env: Record<string, unknown>): GatewayConfig =>
  parseEnv(gatewayEnv, env);

/** The Redis of the rate limits and the DPoP replay cache, if one is configured. */
export function redisStoreFrom(config: ConfigReader<GatewayConfig>): RedisStoreOptions | undefined {
  const get = <K extends keyof GatewayConfig>(key: K) => config.get(key, { infer: true });
  const url = inlineOrFile('REDIS_URL', get('REDIS_URL'), get('REDIS_URL_FILE'), redisUrl);
  return url
    ? { url, keyPrefix: get('REDIS_KEY_PREFIX'), timeoutMs: get('REDIS_TIMEOUT_MS') }
    : undefined;
}

/** The edge's rate limits and IP lists from the validated configuration. */
export function edgeOptionsFrom(config: ConfigReader<GatewayConfig>): EdgeOptions {
  const get = <K extends keyof GatewayConfig>(key: K) => config.get(key, { infer: true });
  return {
    rateLimit: {
      replenishRate: get('RATE_LIMIT_REPLENISH_RATE'),
      burstCapacity: get('RATE_LIMIT_BURST_CAPACITY'),
      redis: redisStoreFrom(config),
      onStoreFailure: get('RATE_LIMIT_ON_REDIS_ERROR'),
      perAddress: {
        replenishRate: get('RATE_LIMIT_PER_ADDRESS_REPLENISH_RATE'),
        burstCapacity: get('RATE_LIMIT_PER_ADDRESS_BURST_CAPACITY'),
      },
    },
    ipLists: get('IP_ALLOW_LISTS'),
  };
}
