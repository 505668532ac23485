import type { StoreFailureMode } from './rate-limit/token-buckets';
import type { RedisStoreOptions } from './rate-limit/redis-client';

export interface EdgeOptions {
  rateLimit: {
    /** Default tokens per second of every caller's bucket. */
    replenishRate: number;
    /** Default size of every caller's bucket: the burst it may send at once. */
    burstCapacity: number;
    /** Shared buckets; without it each replica limits on its own. */
    redis?: RedisStoreOptions;
    /** While Redis is unreachable: limit per replica, or answer 503. */
    onStoreFailure: StoreFailureMode;
    /**
     * The budget of each client address, spent before the token is verified:
     * larger than a principal's, since users behind one NAT share it.
     */
    perAddress: { replenishRate: number; burstCapacity: number };
  };
  /** Named CIDR lists that `@IpAllow(name)` refers to. */
  ipLists: Readonly<Record<string, readonly string[]>>;
}

export const EDGE_OPTIONS = Symbol('EDGE_OPTIONS');
