import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpopOptionsFrom } from '@acme/bootstrap/http';
import { edgeOptionsFrom, redisStoreFrom, validateGatewayEnv } from './config';
import type { GatewayConfig } from './config';

const problemsOf = (env: Record<string, string>): string => {
  try {
    validateGatewayEnv(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

// Read when the app starts, not validated here: any path does.
const files = { TLS_CA_FILE: __filename, TLS_CERT_FILE: __filename, TLS_KEY_FILE: __filename };

describe('gateway configuration', () => {
  it("requires tokens for the public API's audience, and exchanges them for order's", () => {
    expect(validateGatewayEnv(files)).toMatchObject({
      AUTH_AUDIENCE: 'urn:acme:api',
      AUTH_DELEGATION: 'exchange',
      ORDER_AUDIENCE: 'urn:acme:order',
    });
  });

  it('is safe by default: loopback, no trusted proxy, one CORS origin, 100 kB bodies, 10/s with bursts of 20 per caller and 100/s with bursts of 200 per address, admin from loopback only', () => {
    const config = validateGatewayEnv(files);
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      TLS_TERMINATED_BY_PROXY: false,
      TRUSTED_PROXIES: [],
      IP_ALLOW: [],
      IP_DENY: [],
      CORS_ORIGINS: ['http://localhost:4200'],
      MAX_BODY_BYTES: 102_400,
      MAX_URL_LENGTH: 2048,
      REQUEST_TIMEOUT_MS: 10_000,
      API_DOCS: true,
      IP_ALLOW_LISTS: { admin: ['127.0.0.0/8', '::1/128'] },
      RATE_LIMIT_REPLENISH_RATE: 10,
      RATE_LIMIT_BURST_CAPACITY: 20,
      RATE_LIMIT_PER_ADDRESS_REPLENISH_RATE: 100,
      RATE_LIMIT_PER_ADDRESS_BURST_CAPACITY: 200,
      RATE_LIMIT_ON_REDIS_ERROR: 'local',
      LOG_LEVEL: 'info',
    });
    expect(edgeOptionsFrom(reader(config)).rateLimit.redis).toBeUndefined();
  });

  it('reads named IP lists and Redis settings', () => {
    const config = validateGatewayEnv({
      ...files,
      IP_ALLOW_LISTS: 'admin=10.0.0.0/8, 2001:db8::/32; partners=198.51.100.7',
      REDIS_URL: 'redis://:secret@redis:6379/0',
    });
    expect(edgeOptionsFrom(reader(config))).toEqual({
      rateLimit: {
        replenishRate: 10,
        burstCapacity: 20,
        onStoreFailure: 'local',
        perAddress: { replenishRate: 100, burstCapacity: 200 },
        redis: { url: 'redis://:secret@redis:6379/0', keyPrefix: 'gateway:', timeoutMs: 500 },
      },
      ipLists: { admin: ['10.0.0.0/8', '2001:db8::/32'], partners: ['198.51.100.7'] },
    });
  });

  it('reads the Redis URL from a mounted secret file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
    try {
      const file = join(dir, 'redis-url');
      writeFileSync(file, 'redis://gateway:secret@redis:6379/0\n');

      const config = validateGatewayEnv({ ...files, REDIS_URL_FILE: file });

      expect(edgeOptionsFrom(reader(config)).rateLimit.redis?.url).toBe(
        'redis://gateway:secret@redis:6379/0',
      );
      expect(problemsOf({ ...files, REDIS_URL_FILE: join(dir, 'missing') })).toContain(
        'REDIS_URL_FILE: no file at',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to trust every address as a proxy', () => {
    expect(problemsOf({ ...files, TRUSTED_PROXIES: '10.0.0.1,0.0.0.0/0' })).toContain(
      'TRUSTED_PROXIES: a /0 range',
    );
  });

  it('refuses a body limit that leaves no room in a frame for the token and envelope', () => {
    expect(
      problemsOf({ ...files, MAX_BODY_BYTES: '1048576', MAX_FRAME_BYTES: '1048576' }),
    ).toContain('MAX_BODY_BYTES: a body of MAX_BODY_BYTES must fit in a frame of MAX_FRAME_BYTES');
    expect(
      validateGatewayEnv({ ...files, MAX_BODY_BYTES: '1048576', MAX_FRAME_BYTES: '2097152' }),
    ).toMatchObject({ MAX_BODY_BYTES: 1_048_576 });
  });

  it('names every bad key', () => {
    const message = problemsOf({
      ...files,
      TRUSTED_PROXIES: '10.0.0.0/8,proxy.local',
      IP_ALLOW_LISTS: 'Admin=10.0.0.0/8;ops=10.0.0.0/40',
      CORS_ORIGINS: 'https://app.example.com/,*',
      RATE_LIMIT_REPLENISH_RATE: '0',
      RATE_LIMIT_ON_REDIS_ERROR: 'ignore',
      REDIS_URL: 'https://redis',
      MAX_BODY_BYTES: '-1',
    });
    for (const key of [
      'TRUSTED_PROXIES',
      'IP_ALLOW_LISTS',
      'CORS_ORIGINS',
      'RATE_LIMIT_REPLENISH_RATE',
      'RATE_LIMIT_ON_REDIS_ERROR',
      'REDIS_URL',
      'MAX_BODY_BYTES',
    ]) {
      expect(message).toContain(`${key}:`);
    }
    expect(message).toContain('"proxy.local"');
    expect(message).toContain('"10.0.0.0/40" in list ops');
  });

  describe('DPoP (RFC 9449)', () => {
    const dpopOf = (env: Record<string, string>) =>
      dpopOptionsFrom(reader(validateGatewayEnv({ ...files, ...env })));

    it('requires DPoP-bound tokens with proofs for http://localhost:<PORT> by default', () => {
      expect(dpopOf({ PORT: '3100' })).toMatchObject({
        mode: 'required',
        publicOrigin: 'http://localhost:3100',
        maxAgeSec: 60,
        replayCache: undefined,
      });
    });

    it('shares the replay cache through the Redis of the rate limits', () => {
      const config = reader(validateGatewayEnv({ ...files, REDIS_URL: 'redis://redis:6379' }));
      expect(redisStoreFrom(config)).toEqual({
        url: 'redis://redis:6379',
        keyPrefix: 'gateway:',
        timeoutMs: 500,
      });
      expect(edgeOptionsFrom(config).rateLimit.redis).toEqual(redisStoreFrom(config));
    });

    it('refuses a mode it does not know and a public origin with a path, naming the keys', () => {
      const message = problemsOf({
        ...files,
        AUTH_DPOP: 'bearer',
        AUTH_DPOP_PUBLIC_ORIGIN: 'https://api.acme.example/api',
      });
      expect(message).toContain('AUTH_DPOP:');
      expect(message).toContain('AUTH_DPOP_PUBLIC_ORIGIN: must be an origin');
    });
  });
});

function reader(config: GatewayConfig) {
  return { get: <K extends keyof GatewayConfig>(key: K) => config[key] };
}
