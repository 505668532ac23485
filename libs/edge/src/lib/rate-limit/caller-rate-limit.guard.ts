import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_OPTIONS, incomingCall, isPublicRoute } from '@acme/auth';
import type { AuthOptions, IncomingHttpCall, Principal } from '@acme/auth';
import { TracedGuard } from '@acme/telemetry';
import type { FastifyRequest } from 'fastify';
import { RateLimitMetadata } from '../edge.decorators';
import { EDGE_OPTIONS } from '../edge.options';
import type { EdgeOptions } from '../edge.options';
import { clientAddressKey } from '../ip/ip-ranges';
import { admitted, spendTokens } from './spend-tokens';
import { TOKEN_BUCKETS } from './token-buckets';
import type { TokenBuckets } from './token-buckets';

/**
 * Rate limits every HTTP route with a token bucket per caller: the verified
 * principal (`sub`, or `client_id` for a service token), or the client address
 * on public routes. It must run after the auth guards, which verify who is
 * calling: `EdgeModule.callerRateLimit()`, imported after `AuthModule`, installs
 * it. Imported before, it would see no principal on any route: a request to a
 * route that is not public then fails with a 500 that says so, rather than
 * spend its address's budget. Requests the auth guards refuse cost nothing here
 * (the per-address budget of `AddressRateLimitGuard`, checked before them, is
 * what bounds a flood of forged tokens).
 * Every answer carries `RateLimit-Limit/-Remaining/-Reset`; a refused one is a
 * 429 with `Retry-After`.
 */
@TracedGuard()
@Injectable()
export class CallerRateLimitGuard implements CanActivate {
  /** False in the benchmark without security only: no auth guard runs, every caller is anonymous. */
  private readonly authenticates: boolean;

  constructor(
    private readonly reflector: Reflector,
    @Inject(EDGE_OPTIONS) private readonly options: EdgeOptions,
    @Inject(TOKEN_BUCKETS) private readonly buckets: TokenBuckets,
    @Optional() @Inject(AUTH_OPTIONS) auth?: AuthOptions,
  ) {
    this.authenticates = !auth?.benchmarkInsecure;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const call = incomingCall(context);
    switch (call.kind) {
      case 'http':
        return admitted(this.take(context, call));
      case 'rpc':
      case 'unsupported':
        // Not the edge: messages between services come over mutual TLS from known peers.
        return true;
    }
  }

  private take(context: ExecutionContext, call: IncomingHttpCall): void | Promise<void> {
    const route = this.reflector.getAllAndOverride(RateLimitMetadata, [
      context.getHandler(),
      context.getClass(),
    ]);
    const limit = {
      replenishRate: route?.replenishRate ?? this.options.rateLimit.replenishRate,
      burstCapacity: route?.burstCapacity ?? this.options.rateLimit.burstCapacity,
      cost: route?.cost ?? 1,
    };
    const ownBudget = route?.replenishRate !== undefined || route?.burstCapacity !== undefined;
    const bucket = ownBudget
      ? `${context.getClass().name}.${context.getHandler().name}`
      : 'default';
    const caller = this.callerOf(context, call);
    return spendTokens(
      this.buckets,
      `${bucket}:${caller}`,
      limit,
      call,
      'per_principal',
      route?.onStoreFailure,
    );
  }

  private callerOf(context: ExecutionContext, call: IncomingHttpCall): string {
    const request = call.request as FastifyRequest & { user?: Principal };
    const principal = request.user;
    if (principal) {
      return principal.kind === 'service'
        ? `client:${principal.clientId}`
        : `user:${principal.subject}`;
    }
    // Only a public route lets a caller through without a principal. Anywhere else this guard
    // ran before the auth guards, and would key every caller by address: refuse, loudly.
    if (this.authenticates && !isPublicRoute(context)) {
      throw new Error(RUNS_BEFORE_AUTHENTICATION);
    }
    return `ip:${clientAddressKey(request.ip)}`;
  }
}

const RUNS_BEFORE_AUTHENTICATION =
  'CallerRateLimitGuard ran before authentication: import EdgeModule.callerRateLimit() after AuthModule';
