import { Injectable } from '@nestjs/common';
import type { CanActivate, ContextType, ExecutionContext, Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { InsufficientScopeException, InvalidTokenException } from '../auth.errors';
import { getPrincipal } from '../context/principal.context';
import { PolicyMetadata } from '../decorators/auth-metadata';
import { keepAuthorizedResource } from '../policy/authorized-resource';

/** Enforces `@Policy(rule)`, e.g. `anyOf(hasRole('admin'), isOwner(OrderOwnerLoader))`. */
@Injectable()
export class PolicyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride(PolicyMetadata, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!rule) return true;
    const principal = getPrincipal(context);
    if (!principal) throw new InvalidTokenException();
    const allowed = await rule.evaluate({
      principal,
      input: policyInput(context),
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
