import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

export interface RedisStoreOptions {
  /** `redis://` or `rediss://`, credentials included; never logged. */
  url: string;
  /** Prepended to every key, e.g. `gateway:`. */
  keyPrefix: string;
  /** A command not answered by then fails (and the fallback takes over). */
  timeoutMs: number;
}

/**
 * A Redis client for a request path: it never queues a command while
 * disconnected and never waits longer than `timeoutMs`, so an outage costs a
 * request milliseconds, not a hang; it reconnects by itself, forever.
 */
export function createRedisClient(options: RedisStoreOptions): Redis {
  // Loaded on first use: a gateway on its in-memory buckets never loads ioredis (0.8 MB of heap).
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  const redis = new RedisClient(options.url, {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.timeoutMs,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  const log = new Logger('Redis');
  const where = `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}`;
  let down = false;
  // Without a listener ioredis prints every failed reconnect; one line per outage is enough.
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn(`Redis at ${where} unreachable: ${error.message}`);
  });
  redis.on('ready', () => {
    if (down) log.log(`Redis at ${where} reachable again`);
    down = false;
  });
  return redis;
}
