import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

/** Models whose entries belong to a grant, so revoking the grant deletes them all. */
const GRANT_MEMBERS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/**
 * Marks an entry consumed in one step, so of parallel redemptions exactly one wins. Returns 1 when
 * this call consumed it, the payload when it was consumed already, 0 when there is no such entry
 * (not recreating an expired entry without a TTL).
 */
const CONSUME_SCRIPT = `if redis.call('exists', KEYS[1]) == 0 then return 0 end
if redis.call('hsetnx', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return redis.call('hget', KEYS[1], 'payload')`;

const logger = new Logger('RedisAdapter');

/**
 * oidc-provider storage in Redis: one hash per entry (`payload`, and `consumed` once a code or
 * refresh token was used) that expires with the entry, plus a set per grant listing its tokens.
 * Key prefixes come from the ioredis client's `keyPrefix`. Needs Redis 7 (EXPIRE ... NX/GT).
 *
 * @example
 * new Provider(issuer, { adapter: (name) => new RedisAdapter(name, redis) });
 */
export class RedisAdapter implements Adapter {
  constructor(
    private readonly name: string,
    private readonly redis: Redis,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const multi = this.redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload));
    if (expiresIn) multi.expire(key, expiresIn);

    const setIndex = (indexKey: string): void => {
      if (expiresIn) multi.set(indexKey, id, 'EX', expiresIn);
      else multi.set(indexKey, id);
    };
    if (payload.uid) setIndex(this.uidKey(payload.uid));
    if (payload.userCode) setIndex(this.userCodeKey(payload.userCode));

    if (payload.grantId && GRANT_MEMBERS.has(this.name)) {
      const grant = grantKey(payload.grantId);
      multi.sadd(grant, key);
      // The set lives as long as the grant's longest-lived token: a TTL once, then only extended.
      if (expiresIn) multi.expire(grant, expiresIn, 'NX').expire(grant, expiresIn, 'GT');
    }
    await multi.exec();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const { payload, consumed } = await this.redis.hgetall(this.key(id));
    if (!payload) return undefined;
    const entry = JSON.parse(payload) as AdapterPayload;
    return consumed ? { ...entry, consumed: Number(consumed) } : entry;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.redis.get(this.uidKey(uid));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = await this.redis.get(this.userCodeKey(userCode));
    return id ? this.find(id) : undefined;
  }

  /**
   * oidc-provider reads an entry, sees it unused and only then consumes it; two parallel redemptions
   * of one refresh token or code would both pass that check. The loser here is treated as
   * oidc-provider treats a used token presented again: its grant is revoked.
   */
  async consume(id: string): Promise<void> {
    const result = await this.redis.eval(
      CONSUME_SCRIPT,
      1,
      this.key(id),
      Math.floor(Date.now() / 1000),
    );
    if (result === 1) return;
    const what = this.name.replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase();
    if (typeof result !== 'string') throw new errors.InvalidGrant(`${what} not found`);

    const { grantId } = JSON.parse(result) as AdapterPayload;
    if (grantId) await this.revokeGrant(grantId);
    logger.warn(`A ${what} was redeemed twice at once: grant revoked.`);
    throw new errors.InvalidGrant(`${what} already used`);
  }

  async destroy(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = await this.redis.smembers(grantKey(grantId));
    await this.redis.del(grantKey(grantId), ...members);
  }

  /** What oidc-provider's own reuse detection deletes: the grant's tokens and codes, and the grant. */
  private async revokeGrant(grantId: string): Promise<void> {
    await this.revokeByGrantId(grantId);
    await new RedisAdapter('Grant', this.redis).destroy(grantId);
  }

  private key(id: string): string {
    return `${this.name}:${id}`;
  }

  private uidKey(uid: string): string {
    return `${this.name}:uid:${uid}`;
  }

  private userCodeKey(userCode: string): string {
    return `${this.name}:userCode:${userCode}`;
  }
}

function grantKey(grantId: string): string {
  return `grant:${grantId}`;
}
