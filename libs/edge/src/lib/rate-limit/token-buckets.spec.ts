import { Redis } from 'ioredis';
import { deleteKeysUnder, TEST_REDIS_URL, testKeyPrefix } from '../testing/redis-server';
import { RedisTokenBuckets } from './redis-token-buckets';
import { MemoryTokenBuckets, takeTokens } from './token-buckets';
import type { TokenBuckets } from './token-buckets';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const takeMany = async (
  buckets: TokenBuckets,
  key: string,
  n: number,
  limit: Parameters<TokenBuckets['take']>[1],
) => Promise.all(Array.from({ length: n }, async () => buckets.take(key, limit)));

describe(takeTokens.name, () => {
  const limit = { replenishRate: 2, burstCapacity: 4, cost: 1 };

  it('starts full, refills replenishRate tokens a second, never above burstCapacity', () => {
    let state = takeTokens(undefined, 0, limit).state;
    expect(state.tokens).toBe(3);
    state = takeTokens(state, 500, limit).state; // +1 -1
    expect(state.tokens).toBe(3);
    state = takeTokens(state, 60_000, limit).state;
    expect(state.tokens).toBe(3); // capped at 4, then -1
  });

  it('refuses a request the bucket cannot pay for, and says when it could', () => {
    const empty = { tokens: 0.5, at: 0 };
    const { state, result } = takeTokens(empty, 0, { ...limit, cost: 2 });
    expect(result).toEqual({ allowed: false, remaining: 0.5, retryAfterMs: 750, resetMs: 1750 });
    expect(state.tokens).toBe(0.5);
  });
});

const stores: [string, () => Promise<{ buckets: TokenBuckets; close: () => Promise<void> }>][] = [
  [
    'memory',
    () => Promise.resolve({ buckets: new MemoryTokenBuckets(), close: () => Promise.resolve() }),
  ],
  [
    'Redis',
    () => {
      const prefix = testKeyPrefix();
      const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
      return Promise.resolve({
        buckets: new RedisTokenBuckets(redis),
        close: async () => {
          redis.disconnect();
          await deleteKeysUnder(prefix);
        },
      });
    },
  ],
];

describe.each(stores)('token buckets in %s', (_name, open) => {
  let buckets: TokenBuckets;
  let close: () => Promise<void>;

  beforeAll(async () => ({ buckets, close } = await open()));
  afterAll(() => close());

  it('admits a burst of burstCapacity, refuses the next with a retry delay, and refills at replenishRate', async () => {
    const limit = { replenishRate: 4, burstCapacity: 5, cost: 1 };
    const burst = [];
    for (let i = 0; i < 6; i++) burst.push(await buckets.take('burst', limit));
    expect(burst.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);
    expect(Math.floor(burst[4].remaining)).toBe(0);
    expect(burst[5].retryAfterMs).toBeGreaterThan(0);
    expect(burst[5].retryAfterMs).toBeLessThanOrEqual(250);
    await sleep(600); // 2.4 tokens
    const after = [
      await buckets.take('burst', limit),
      await buckets.take('burst', limit),
      await buckets.take('burst', limit),
    ];
    expect(after.map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('takes `cost` tokens per request', async () => {
    const limit = { replenishRate: 0.01, burstCapacity: 10, cost: 4 };
    const results = await Promise.all([1, 2, 3].map(async () => buckets.take('cost', limit)));
    expect(results.filter((r) => r.allowed)).toHaveLength(2);
  });

  it('keeps one bucket per key', async () => {
    const limit = { replenishRate: 0.01, burstCapacity: 1, cost: 1 };
    expect((await buckets.take('alice', limit)).allowed).toBe(true);
    expect((await buckets.take('alice', limit)).allowed).toBe(false);
    expect((await buckets.take('bob', limit)).allowed).toBe(true);
  });

  it('never admits more than the bucket holds under concurrent requests', async () => {
    const limit = { replenishRate: 0.001, burstCapacity: 20, cost: 1 };
    const results = await takeMany(buckets, 'concurrent', 200, limit);
    expect(results.filter((r) => r.allowed)).toHaveLength(20);
  });
});

describe(RedisTokenBuckets.name, () => {
  const prefix = testKeyPrefix();
  const clients = Array.from({ length: 8 }, () => new Redis(TEST_REDIS_URL, { keyPrefix: prefix }));

  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    await deleteKeysUnder(prefix);
  });

  it('is atomic: 8 connections (as 8 replicas) sending 400 requests at once spend each token once', async () => {
    const replicas = clients.map((client) => new RedisTokenBuckets(client));
    const limit = { replenishRate: 0.001, burstCapacity: 25, cost: 1 };
    const results = await Promise.all(
      replicas.flatMap((replica) =>
        Array.from({ length: 50 }, () => replica.take('shared', limit)),
      ),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(25);
    expect(Math.min(...results.map((r) => r.remaining))).toBeGreaterThanOrEqual(0);
  });

  it('lets the key expire once the bucket would be full again', async () => {
    // One token spent at 2/s: full again in 500 ms, long enough to read the TTL on a busy machine.
    const limit = { replenishRate: 2, burstCapacity: 2, cost: 1 };
    await new RedisTokenBuckets(clients[0]).take('expiring', limit);
    const ttl = await clients[0].pttl('rate-limit:expiring');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(500);
  });
});
