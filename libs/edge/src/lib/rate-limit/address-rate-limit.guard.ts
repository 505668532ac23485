import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { incomingCall } from '@acme/auth';
import { RateLimitMetadata } from '../edge.decorators';
import { EDGE_OPTIONS } from '../edge.options';
import type { EdgeOptions } from '../edge.options';
import { clientAddressKey } from '../ip/ip-ranges';
import { admitted, spendTokens } from './spend-tokens';
import { TOKEN_BUCKETS } from './token-buckets';
import type { TokenBucketLimit, TokenBuckets } from './token-buckets';
import { TracedGuard } from '@acme/telemetry';

/**
 * A budget per client address (an IPv6 /64 counts as one), taken before any
 * token is verified: a flood of forged tokens costs a bucket lookup each, not
 * a signature check, and is refused with 429 once the address's budget is
 * spent. Generous, since many users may share one address (NAT); each
 * principal's own, smaller budget is enforced after authentication by
 * `CallerRateLimitGuard`. A guard of `EdgeModule`, imported before
 * `AuthModule`, so it runs before the auth guard.
 */
@TracedGuard()
@Injectable()
export class AddressRateLimitGuard implements CanActivate {
  private readonly limit: TokenBucketLimit;
  /** Buckets in Redis, which can be out of reach: only then does a route's `onStoreFailure` count. */
  private readonly sharedStore: boolean;

  constructor(
    private readonly reflector: Reflector,
    @Inject(EDGE_OPTIONS) options: EdgeOptions,
    @Inject(TOKEN_BUCKETS) private readonly buckets: TokenBuckets,
  ) {
    this.limit = { ...options.rateLimit.perAddress, cost: 1 };
    this.sharedStore = options.rateLimit.redis !== undefined;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const call = incomingCall(context);
    switch (call.kind) {
      case 'http':
        return admitted(
          spendTokens(
            this.buckets,
            `address:${clientAddressKey(call.request.ip)}`,
            this.limit,
            call,
            'per_address',
            this.sharedStore ? this.onStoreFailure(context) : undefined,
          ),
        );
      case 'rpc':
      case 'unsupported':
        // Not the edge: messages between services come over mutual TLS from known peers.
        return true;
    }
  }

  private onStoreFailure(context: ExecutionContext) {
    return this.reflector.getAllAndOverride(RateLimitMetadata, [
      context.getHandler(),
      context.getClass(),
    ])?.onStoreFailure;
  }
}
