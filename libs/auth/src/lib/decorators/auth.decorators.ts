import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiSecurity, DECORATORS } from '@nestjs/swagger';
import type { PolicyRule } from '../policy/policy';
import {
  AllowServicesMetadata,
  PolicyMetadata,
  PublicMetadata,
  RolesMetadata,
  ScopesMetadata,
} from './auth-metadata';

/**
 * Opts a route or message handler out of token verification. Every use is a
 * security decision: say why next to it.
 *
 * @example
 * @Public() // service discovery: callers have no token yet
 * @Get('info') info() {}
 */
export function Public(): MethodDecorator & ClassDecorator {
  // OpenAPI: an empty security requirement, i.e. no credentials needed.
  return applyDecorators(PublicMetadata(), ApiSecurity({}));
}

/**
 * Requires one of the roles (or all of them with `{ all: [...] }`). Service
 * principals have no roles.
 *
 * @example
 * @Roles('user', 'admin')          // either
 * @Roles({ all: ['user', 'admin'] }) // both
 */
export function Roles(...roles: string[] | [{ all: string[] }]): MethodDecorator & ClassDecorator {
  const [first] = roles;
  const requirement =
    typeof first === 'object'
      ? { roles: first.all, match: 'all' as const }
      : { roles: roles as string[], match: 'any' as const };
  const roleList =
    requirement.match === 'all' ? { allOf: requirement.roles } : { anyOf: requirement.roles };
  return applyDecorators(RolesMetadata(requirement), ApiRequires('x-required-roles', roleList));
}

/**
 * Requires every listed OAuth scope, read from `scope` (string) or `scp` (array).
 *
 * @example
 * @Scopes('orders:write')
 */
export function Scopes(...scopes: string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(ScopesMetadata(scopes), ApiRequires('x-required-scopes', scopes));
}

/**
 * Requires a policy expression to hold, e.g. admin or owner of the resource.
 *
 * @example
 * @Policy(anyOf(hasRole('admin'), isOwner(OrderOwnerLoader)))
 */
export function Policy(rule: PolicyRule): MethodDecorator & ClassDecorator {
  return applyDecorators(PolicyMetadata(rule), ApiRequires('x-required-policy', rule.description));
}

/**
 * Names the services allowed to send this message, checked against the SPIFFE
 * ID of the mutual-TLS peer certificate. A message handler without it refuses
 * every caller.
 *
 * @example
 * @AllowServices('order')
 * @MessagePattern(PAYMENT_PATTERNS.charge) charge() {}
 */
export function AllowServices(...services: string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(AllowServicesMetadata(services));
}

/**
 * OpenAPI of a protected operation: the bearer scheme (declared once, however
 * many rules the operation has) and what the token must grant, as an
 * `x-required-*` extension that /docs shows.
 */
function ApiRequires(
  extension: `x-required-${string}`,
  value: unknown,
): MethodDecorator & ClassDecorator {
  const bearerOnce = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value ?? target) as object;
    const security = (Reflect.getMetadata(DECORATORS.API_SECURITY, holder) ?? []) as object[];
    if (!security.some((requirement) => 'bearer' in requirement)) {
      applyDecorators(ApiBearerAuth())(target, key, descriptor);
    }
  };
  return applyDecorators(bearerOnce, ApiExtension(extension, value));
}
