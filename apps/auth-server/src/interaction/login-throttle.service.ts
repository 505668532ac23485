import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { clientAddressKey } from '@acme/edge';
import type { Redis } from 'ioredis';
import type { AuthServerConfig } from '../config';
import { REDIS_CLIENT } from '../redis/redis.constants';

/** A counter and the most attempts it allows within the window. */
interface Limit {
  key: string;
  max: number;
}

/** Fixed-window counters; `take` must check and count in one atomic step. */
interface AttemptCounters {
  /** Counts one attempt on every counter, or none when one is at its limit: then ms until it ends. */
  take(limits: readonly Limit[], windowSeconds: number): Promise<number>;
  /** Gives back one attempt on each counter. */
  giveBack(keys: readonly string[]): Promise<void>;
  delete(key: string): Promise<void>;
}

// One script, so parallel attempts cannot all read "not locked" before any of them is counted.
const TAKE_SCRIPT = `for i, key in ipairs(KEYS) do
  if tonumber(redis.call('get', key) or '0') >= tonumber(ARGV[i + 1]) then
    return math.max(redis.call('pttl', key), 1)
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('incr', key) == 1 then redis.call('expire', key, ARGV[1]) end
end
return 0`;

const GIVE_BACK_SCRIPT = `for _, key in ipairs(KEYS) do
  if tonumber(redis.call('get', key) or '0') > 0 then redis.call('decr', key) end
end`;

class RedisCounters implements AttemptCounters {
  constructor(private readonly redis: Redis) {}

  async take(limits: readonly Limit[], windowSeconds: number): Promise<number> {
    const keys = limits.map((limit) => limit.key);
    const maxima = limits.map((limit) => limit.max);
    return Number(
      await this.redis.eval(TAKE_SCRIPT, keys.length, ...keys, windowSeconds, ...maxima),
    );
  }

  async giveBack(keys: readonly string[]): Promise<void> {
    await this.redis.eval(GIVE_BACK_SCRIPT, keys.length, ...keys);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }
}

/** For a single process without Redis; synchronous, hence atomic. */
class MemoryCounters implements AttemptCounters {
  private readonly counters = new Map<string, { count: number; endsAt: number }>();
  private sweptAt = 0;

  take(limits: readonly Limit[], windowSeconds: number): Promise<number> {
    const now = Date.now();
    this.forgetEnded(now);
    for (const { key, max } of limits) {
      const counter = this.live(key, now);
      if (counter && counter.count >= max) return Promise.resolve(counter.endsAt - now);
    }
    for (const { key } of limits) {
      const counter = this.live(key, now) ?? { count: 0, endsAt: now + windowSeconds * 1000 };
      counter.count++;
      this.counters.set(key, counter);
    }
    return Promise.resolve(0);
  }

  giveBack(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const counter = this.counters.get(key);
      if (counter && counter.count > 0) counter.count--;
    }
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.counters.delete(key);
    return Promise.resolve();
  }

  private live(key: string, now: number): { count: number; endsAt: number } | undefined {
    const counter = this.counters.get(key);
    return counter && counter.endsAt > now ? counter : undefined;
  }

  /** At most once a second, so a flood of new names does not make every attempt walk the map. */
  private forgetEnded(now: number): void {
    if (now - this.sweptAt < 1000) return;
    this.sweptAt = now;
    for (const [key, { endsAt }] of this.counters) if (endsAt <= now) this.counters.delete(key);
  }
}

/**
 * Limits sign-in attempts per user name and client address (LOGIN_MAX_FAILURES) and per user name
 * from anywhere (LOGIN_ACCOUNT_MAX_FAILURES), within LOGIN_LOCK_SECONDS. An attempt is counted
 * before the password is checked, in one atomic step, so parallel guesses cannot slip past the
 * limit; a successful sign-in gives its attempt back. The client address is an IPv4 address or an
 * IPv6 /64, as one IPv6 host usually holds a whole /64. Kept in Redis when there is one, so every
 * replica sees the same counts.
 */
@Injectable()
export class LoginThrottleService {
  private readonly counters: AttemptCounters;
  private readonly maxPerAddress: number;
  private readonly maxPerAccount: number;
  private readonly windowSeconds: number;

  constructor(
    config: ConfigService<AuthServerConfig, true>,
    @Inject(REDIS_CLIENT) redis: Redis | null,
  ) {
    this.maxPerAddress = config.get('loginMaxFailures', { infer: true });
    this.maxPerAccount = config.get('loginAccountMaxFailures', { infer: true });
    this.windowSeconds = config.get('loginLockSeconds', { infer: true });
    this.counters = redis ? new RedisCounters(redis) : new MemoryCounters();
  }

  /**
   * Counts an attempt of `username` from `address` (Express's `req.ip`). Returns 0 when it may go
   * on to the password check, else the seconds until it may try again (nothing counted then).
   */
  async attempt(username: string, address: string | undefined): Promise<number> {
    const [pair, account] = keysOf(username, address);
    const lockedForMs = await this.counters.take(
      [
        { key: pair, max: this.maxPerAddress },
        { key: account, max: this.maxPerAccount },
      ],
      this.windowSeconds,
    );
    return Math.ceil(lockedForMs / 1000);
  }

  /** After the right password: forgets this pair's failures and gives the account its attempt back. */
  async succeeded(username: string, address: string | undefined): Promise<void> {
    const [pair, account] = keysOf(username, address);
    await this.counters.delete(pair);
    await this.counters.giveBack([account]);
  }

  /** After an attempt whose password was never checked (the server was busy). */
  async notChecked(username: string, address: string | undefined): Promise<void> {
    await this.counters.giveBack(keysOf(username, address));
  }
}

function keysOf(username: string, address: string | undefined): [string, string] {
  const name = username.toLowerCase();
  // The address comes first and holds no "|", so no user name can reach another pair's counter.
  return [
    `login-attempts:pair:${clientAddressKey(address)}|${name}`,
    `login-attempts:account:${name}`,
  ];
}
