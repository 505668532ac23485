import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PolicyRule } from '../policy/policy';

export interface RolesRequirement {
  roles: readonly string[];
  match: 'any' | 'all';
}

/** Typed metadata behind the auth decorators; the guards and the route audit read these. */
export const PublicMetadata = Reflector.createDecorator<void, true>({
  key: 'auth:public',
  transform: () => true,
});
/** Whether the handler, or its controller, is `@Public()`: open to callers without a token. */
export function isPublicRoute(reflector: Reflector, context: ExecutionContext): boolean {
  return (
    reflector.getAllAndOverride(PublicMetadata, [context.getHandler(), context.getClass()]) === true
  );
}
export const RolesMetadata = Reflector.createDecorator<RolesRequirement>({ key: 'auth:roles' });
export const ScopesMetadata = Reflector.createDecorator<readonly string[]>({ key: 'auth:scopes' });
export const PolicyMetadata = Reflector.createDecorator<PolicyRule>({ key: 'auth:policy' });
export const AllowServicesMetadata = Reflector.createDecorator<readonly string[]>({
  key: 'auth:services',
});
