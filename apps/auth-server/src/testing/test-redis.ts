import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis of the test environment. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A random key prefix, so test runs never see each other's keys. */
export function testKeyPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

/** The keys under `prefix`, without it. */
export async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    return (await redis.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
  } finally {
    await redis.quit();
  }
}

/** Deletes every key under `prefix`. */
export async function deleteKeysUnder(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}
