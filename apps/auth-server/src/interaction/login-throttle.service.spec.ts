import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import type { AuthServerConfig } from '../config';
import { deleteKeysUnder, TEST_REDIS_URL, testKeyPrefix } from '../testing/test-redis';
import { LoginThrottleService } from './login-throttle.service';

describe(LoginThrottleService.name, () => {
  const prefix = testKeyPrefix();
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  const config = new ConfigService({ loginMaxFailures: 2, loginLockSeconds: 60 }) as ConfigService<
    AuthServerConfig,
    true
  >;

  afterAll(async () => {
    await redis.quit();
    await deleteKeysUnder(prefix);
  });

  describe.each([
    ['in memory', null],
    ['in Redis', redis],
  ])('%s', (_store, store) => {
    const throttle = new LoginThrottleService(config, store);

    it('locks a key after LOGIN_MAX_FAILURES failures, for the rest of the window', async () => {
      await throttle.recordFailure('alice|10.0.0.1');
      expect(await throttle.lockedFor('alice|10.0.0.1')).toBe(0);
      await throttle.recordFailure('alice|10.0.0.1');
      expect(await throttle.lockedFor('alice|10.0.0.1')).toBeGreaterThan(55);
      expect(await throttle.lockedFor('alice|10.0.0.2')).toBe(0);
    });

    it('forgets the failures of a key after a successful sign-in', async () => {
      await throttle.recordFailure('bob|10.0.0.1');
      await throttle.reset('bob|10.0.0.1');
      await throttle.recordFailure('bob|10.0.0.1');
      expect(await throttle.lockedFor('bob|10.0.0.1')).toBe(0);
    });
  });
});
