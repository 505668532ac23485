import { ServiceUnavailableException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisServer } from '../testing/redis-server';
import { FallbackTokenBuckets } from './fallback-token-buckets';
import { createRedisClient } from './redis-client';
import { RedisTokenBuckets } from './redis-token-buckets';
import { MemoryTokenBuckets } from './token-buckets';

describe(FallbackTokenBuckets.name, () => {
  const limit = { replenishRate: 0.001, burstCapacity: 2, cost: 1 };
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = createRedisClient({ url: server.url, keyPrefix: 'fallback:', timeoutMs: 200 });
    await new Promise((resolve) => redis.once('ready', resolve));
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const waitFor = async (condition: () => boolean) => {
    const deadline = Date.now() + 5_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('limits locally (fail open) or refuses with 503 (fail closed) while Redis is down, and shares again once it is back', async () => {
    const local = new FallbackTokenBuckets(
      new RedisTokenBuckets(redis),
      'local',
      new MemoryTokenBuckets(),
    );
    const reject = new FallbackTokenBuckets(
      new RedisTokenBuckets(redis),
      'reject',
      new MemoryTokenBuckets(),
    );
    expect((await local.take('a', limit)).allowed).toBe(true);
    expect(await redis.exists('rate-limit:a')).toBe(1);

    await server.stop();
    const started = Date.now();
    const whileDown = [
      await local.take('b', limit),
      await local.take('b', limit),
      await local.take('b', limit),
    ];
    expect(whileDown.map((r) => r.allowed)).toEqual([true, true, false]);
    await expect(reject.take('b', limit)).rejects.toBeInstanceOf(ServiceUnavailableException);
    // A call's own mode wins: a route that must answer through an outage, or must not.
    expect((await reject.take('d', limit, 'local')).allowed).toBe(true);
    await expect(local.take('d', limit, 'reject')).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    expect(Date.now() - started).toBeLessThan(1_000);

    await server.restart();
    await waitFor(() => redis.status === 'ready');
    expect((await reject.take('c', limit)).allowed).toBe(true);
    expect((await local.take('c', limit)).allowed).toBe(true);
    expect(await redis.exists('rate-limit:c')).toBe(1);
  });
});
