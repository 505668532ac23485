import { applyDecorators } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ApiBearerAuth, ApiExtension, ApiSecurity } from '@nestjs/swagger';
import { declaredAuthRule } from '@acme/auth';
import type { DeclaredAuthRule } from '@acme/auth';

/** Handlers documented already: a second app in the same process must not add their security twice. */
const documented = new WeakSet<object>();

/**
 * Writes each route's auth rule into its OpenAPI operation, from what its auth
 * decorators declared: no credentials for a `@Public()` route; otherwise the
 * bearer scheme, and what the token must grant as `x-required-roles`,
 * `x-required-scopes` and `x-required-policy` extensions, which /docs shows.
 * Call before the document is built.
 */
export function documentAuthRules(controllers: Iterable<Type<unknown>>): void {
  for (const controller of controllers) {
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, name);
      const handler: unknown = descriptor?.value;
      if (name === 'constructor' || typeof handler !== 'function' || documented.has(handler)) {
        continue;
      }
      if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
      documented.add(handler);
      const openApi = openApiOf(declaredAuthRule(handler, controller));
      applyDecorators(...openApi)(controller.prototype, name, descriptor);
    }
  }
}

function openApiOf(rule: DeclaredAuthRule): MethodDecorator[] {
  // An empty security requirement: no credentials needed.
  if (rule.public) return [ApiSecurity({})];
  const { roles, scopes, policy } = rule;
  return [
    ApiBearerAuth(),
    ...(roles
      ? [
          ApiExtension(
            'x-required-roles',
            roles.match === 'all' ? { allOf: [...roles.roles] } : { anyOf: [...roles.roles] },
          ),
        ]
      : []),
    ...(scopes ? [ApiExtension('x-required-scopes', [...scopes])] : []),
    ...(policy ? [ApiExtension('x-required-policy', policy)] : []),
  ];
}
