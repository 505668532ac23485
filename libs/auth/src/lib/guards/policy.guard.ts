import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ContextType, ExecutionContext, Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { InsufficientScopeException, InvalidTokenException } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { getClientNetworks } from '../context/client-networks.context';
import { getPrincipal } from '../context/principal.context';
import { AllowServicesMetadata, PolicyMetadata } from '../decorators/auth-metadata';
import { keepAuthorizedResource } from '../policy/authorized-resource';

/** Enforces `@Policy(rule)`, e.g. `anyOf(hasRole('admin'), isOwner(OrderOwnerLoader))`. */
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
    if (!allowed) throw new InsufficientScopeException(`requires ${rule.description}`);
    return true;
  }
}

function policyInput(context: ExecutionContext): unknown {
  const type = context.getType<ContextType>();
  switch (type) {
    case 'rpc':
      return context.switchToRpc().getData();
    case 'http': {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      return { params: request.params, query: request.query, body: request.body as unknown };
    }
    case 'ws':
      return undefined;
  }
}
