import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InsufficientScopeException, InvalidTokenException } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { getClientNetworks } from '../context/client-networks.context';
import { incomingCall } from '../context/incoming-call';
import { getPrincipal } from '../context/principal.context';
import { handlerRules } from '../decorators/auth-metadata';
import { keepAuthorizedResource } from '../policy/authorized-resource';
import type { PolicyRule } from '../policy/policy';
import { TracedGuard } from '@acme/telemetry';

/**
 * Enforces `@Policy(rule)`, e.g. `anyOf(hasRole('admin'), isOwner(OrderOwnerLoader))`.
 * A rule that decides at once is answered at once: no promise for Nest to wait on.
 */
@TracedGuard()
@Injectable()
export class PolicyGuard implements CanActivate {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {}

  /** The loaders policies name, each looked up once: they are singletons. */
  private readonly providers = new Map<Type, unknown>();

  private readonly resolve = <T>(type: Type<T>): T => {
    if (!this.providers.has(type)) {
      this.providers.set(type, this.moduleRef.get(type, { strict: false }));
    }
    return this.providers.get(type) as T;
  };

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { policy, services } = handlerRules(context);
    if (!policy) return true;
    const principal = getPrincipal(context);
    if (!principal) throw new InvalidTokenException();
    const allowed = policy.evaluate({
      principal,
      input: policyInput(context),
      clientNetworks: getClientNetworks(context, this.options, services),
      resolve: this.resolve,
      keep: (resource) => keepAuthorizedResource(context, resource),
    });
    return typeof allowed === 'boolean'
      ? enforce(policy, allowed)
      : Promise.resolve(allowed).then((held) => enforce(policy, held));
  }
}

function enforce(policy: PolicyRule, allowed: boolean): true {
  if (!allowed) throw new InsufficientScopeException(`requires ${policy.description}`, 'policy');
  return true;
}

function policyInput(context: ExecutionContext): unknown {
  const call = incomingCall(context);
  switch (call.kind) {
    case 'rpc':
      return call.data;
    case 'http': {
      const { params, query, body } = call.request;
      return { params, query, body: body as unknown };
    }
    case 'unsupported':
      return undefined;
  }
}
