import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { InsufficientScopeException, InvalidTokenException } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { getClientNetworks } from '../context/client-networks.context';
import { incomingCall } from '../context/incoming-call';
import { getPrincipal } from '../context/principal.context';
import { AllowServicesMetadata, PolicyMetadata } from '../decorators/auth-metadata';
import { keepAuthorizedResource } from '../policy/authorized-resource';
import { TracedGuard } from '@acme/telemetry';

/** Enforces `@Policy(rule)`, e.g. `anyOf(hasRole('admin'), isOwner(OrderOwnerLoader))`. */
@TracedGuard()
@Injectable()
export class PolicyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride(PolicyMetadata, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!rule) return true;
    const principal = getPrincipal(context);
    if (!principal) throw new InvalidTokenException();
    const targets = [context.getHandler(), context.getClass()];
    const callers = this.reflector.getAllAndOverride(AllowServicesMetadata, targets);
    const allowed = await rule.evaluate({
      principal,
      input: policyInput(context),
      clientNetworks: getClientNetworks(context, this.options, callers),
      resolve: <T>(type: Type<T>) => this.moduleRef.get(type, { strict: false }),
      keep: (resource) => keepAuthorizedResource(context, resource),
    });
    if (!allowed) throw new InsufficientScopeException(`requires ${rule.description}`, 'policy');
    return true;
  }
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
