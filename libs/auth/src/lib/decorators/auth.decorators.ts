/*
 * The auth decorators record metadata only. The guards enforce it, the authorization report
 * lists it, and the HTTP app documents it in OpenAPI (`documentAuthRules` in @acme/bootstrap),
 * so a service without HTTP never loads Swagger.
 */
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
  return PublicMetadata();
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
  return RolesMetadata(requirement);
}

/**
 * Requires every listed OAuth scope, read from `scope` (string) or `scp` (array).
 *
 * @example
 * @Scopes('orders:write')
 */
export function Scopes(...scopes: string[]): MethodDecorator & ClassDecorator {
  return ScopesMetadata(scopes);
}

/**
 * Requires a policy expression to hold, e.g. admin or owner of the resource.
 *
 * @example
 * @Policy(anyOf(hasRole('admin'), isOwner(OrderOwnerLoader)))
 */
export function Policy(rule: PolicyRule): MethodDecorator & ClassDecorator {
  return PolicyMetadata(rule);
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
  return AllowServicesMetadata(services);
}
