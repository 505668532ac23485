import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import type { AuthServerConfig } from '../config';
import { deleteKeysUnder, TEST_REDIS_URL, testKeyPrefix } from '../testing/test-redis';
import { LoginThrottleService } from './login-throttle.service';

describe(LoginThrottleService.name, () => {
  const prefix = testKeyPrefix();
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  const config = new ConfigService({
    loginMaxFailures: 3,
    loginAccountMaxFailures: 5,
    loginLockSeconds: 60,
  }) as ConfigService<AuthServerConfig, true>;

  afterAll(async () => {
    await redis.quit();
    await deleteKeysUnder(prefix);
  });

  describe.each([
    ['in memory', null],
    ['in Redis', redis],
  ])('%s', (_store, store) => {
    const throttle = new LoginThrottleService(config, store);
    const attempts = (username: string, addresses: string[]) =>
      Promise.all(addresses.map((address) => throttle.attempt(username, address)));

    it('lets at most LOGIN_MAX_FAILURES of many parallel attempts through, then locks the pair', async () => {
      const results = await attempts('alice', Array(20).fill('10.0.0.1'));

      expect(results.filter((lockedFor) => lockedFor === 0)).toHaveLength(3);
      expect(Math.min(...results.filter((lockedFor) => lockedFor > 0))).toBeGreaterThan(55);
      expect(await throttle.attempt('alice', '10.0.0.2')).toBe(0);
      expect(await throttle.attempt('eve', '10.0.0.1')).toBe(0);
    });

    it('locks a user name after LOGIN_ACCOUNT_MAX_FAILURES attempts from any addresses', async () => {
      const results = await attempts(
        'bob',
        Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`),
      );

      expect(results.filter((lockedFor) => lockedFor === 0)).toHaveLength(5);
      expect(await throttle.attempt('BOB', '198.51.100.7')).toBeGreaterThan(55);
      expect(await throttle.attempt('carol', '198.51.100.7')).toBe(0);
    });

    it('counts the addresses of one IPv6 /64 as one', async () => {
      await attempts('dave', ['2001:db8:0:1::1', '2001:db8:0:1:ffff::2', '2001:DB8:0:1:0:0:0:3']);

      expect(await throttle.attempt('dave', '2001:db8:0:1:abcd::4')).toBeGreaterThan(55);
      expect(await throttle.attempt('dave', '2001:db8:0:2::1')).toBe(0);
    });

    it('forgets the failures of a pair after a successful sign-in, and gives the account its attempt back', async () => {
      await attempts('frank', ['10.0.0.9', '10.0.0.9']);
      await throttle.succeeded('frank', '10.0.0.9');
      expect(await attempts('frank', ['10.0.0.9', '10.0.0.9', '10.0.0.9'])).toEqual([0, 0, 0]);
      // 2 + 3 attempts, one given back: one more before the account limit of 5.
      expect(await throttle.attempt('frank', '10.0.1.1')).toBe(0);
      expect(await throttle.attempt('frank', '10.0.1.2')).toBeGreaterThan(0);
    });

    it('unlocks when the LOGIN_LOCK_SECONDS window ends', async () => {
      const shortWindow = new LoginThrottleService(
        new ConfigService({
          loginMaxFailures: 1,
          loginAccountMaxFailures: 5,
          loginLockSeconds: 1,
        }) as ConfigService<AuthServerConfig, true>,
        store,
      );
      expect(await shortWindow.attempt('heidi', '10.0.0.6')).toBe(0);
      expect(await shortWindow.attempt('heidi', '10.0.0.6')).toBe(1);

      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await shortWindow.attempt('heidi', '10.0.0.6')).toBe(0);
    });

    it('does not count an attempt whose password was never checked', async () => {
      await attempts('grace', ['10.0.0.5', '10.0.0.5', '10.0.0.5']);
      await throttle.notChecked('grace', '10.0.0.5');
      expect(await throttle.attempt('grace', '10.0.0.5')).toBe(0);
    });
  });
});
