export {
  deleteKeysUnder,
  RedisServer,
  TEST_REDIS_URL,
  testKeyPrefix,
} from './lib/testing/redis-server';
