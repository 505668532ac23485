import type { Redis } from 'ioredis';
import { resultOf } from './token-buckets';
import type { TokenBucketLimit, TokenBucketResult, TokenBuckets } from './token-buckets';

/**
 * `takeTokens` of token-buckets.ts as one Lua script, so that the read, the
 * refill and the write of a bucket are atomic: Redis runs one script at a time,
 * and concurrent requests, from any replica, can never spend the same token
 * twice. Time is Redis's own clock, so replicas with skewed clocks agree.
 * KEYS[1] = bucket; ARGV = replenish rate (tokens/s), burst capacity, cost.
 * Returns { allowed (0|1), tokens left (as a string: Redis truncates Lua
 * numbers to integers), ms until full }.
 */
const TAKE_TOKENS = `
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local fullInMs = math.ceil((capacity - tokens) * 1000 / rate)
if fullInMs > 0 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], fullInMs)
else
  redis.call('DEL', KEYS[1])
end
return { allowed, tostring(tokens), fullInMs }
`;

type TakeTokensReply = [number, string, number];

interface WithTakeTokens {
  edgeTakeTokens(
    key: string,
    rate: number,
    capacity: number,
    cost: number,
  ): Promise<TakeTokensReply>;
}

/**
 * Buckets in Redis, shared by every replica. Keys are `rate-limit:<bucket>`
 * under the client's own `keyPrefix`, and expire once the bucket would be
 * full again. Needs Redis >= 5 (`TIME` in scripts).
 */
export class RedisTokenBuckets implements TokenBuckets {
  private readonly redis: Redis & WithTakeTokens;

  constructor(redis: Redis) {
    // EVALSHA, with EVAL when Redis has lost the script (after a restart).
    redis.defineCommand('edgeTakeTokens', { numberOfKeys: 1, lua: TAKE_TOKENS });
    this.redis = redis as Redis & WithTakeTokens;
  }

  async take(key: string, limit: TokenBucketLimit): Promise<TokenBucketResult> {
    const [allowed, tokens] = await this.redis.edgeTakeTokens(
      `rate-limit:${key}`,
      limit.replenishRate,
      limit.burstCapacity,
      limit.cost,
    );
    return resultOf(allowed === 1, Number(tokens), limit);
  }
}
