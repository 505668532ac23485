import { NotFoundException } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import type { Principal } from '../principal';

/** What a policy sees: the principal, the handler's input, and a way to reach providers. */
export interface PolicyContext {
  principal: Principal;
  /** The message payload over RPC; `{ params, query, body }` over HTTP. */
  input: unknown;
  resolve<T>(type: Type<T>): T;
}

/** A declarative authorization rule: composable, and printable in the authorization report. */
export interface PolicyRule {
  readonly description: string;
  evaluate(context: PolicyContext): boolean | Promise<boolean>;
}

/**
 * Loads who owns the resource a handler is about to touch. Register it as a
 * provider of the module that declares the policy.
 *
 * @example
 * @Injectable() class OrderOwnerLoader implements ResourceOwnerLoader {
 *   ownerOf(input: unknown) { return this.orders.find((input as OrderIdDto).id)?.ownerId; }
 * }
 */
export interface ResourceOwnerLoader {
  /** The owner's `sub`, or undefined when the resource does not exist (the call then gets 404). */
  ownerOf(input: unknown): string | undefined | Promise<string | undefined>;
}

/** The principal is a user with this role. */
export function hasRole(role: string): PolicyRule {
  return {
    description: `hasRole('${role}')`,
    evaluate: ({ principal }) => principal.kind === 'user' && principal.roles.includes(role),
  };
}

/** The token grants this scope. */
export function hasScope(scope: string): PolicyRule {
  return { description: `hasScope('${scope}')`, evaluate: ({ principal }) => principal.scopes.includes(scope) };
}

/**
 * The principal is the user who owns the resource. A service token never owns
 * anything, even if its `sub` happened to equal a user id.
 */
export function isOwner(loader: Type<ResourceOwnerLoader>): PolicyRule {
  return {
    description: `isOwner(${loader.name})`,
    async evaluate({ principal, input, resolve }) {
      if (principal.kind !== 'user') return false;
      const owner = await resolve(loader).ownerOf(input);
      if (owner === undefined) throw new NotFoundException('not found');
      return owner === principal.subject;
    },
  };
}

/** The principal is the named service, acting for itself with a client-credentials token. */
export function isService(clientId: string): PolicyRule {
  return {
    description: `isService('${clientId}')`,
    evaluate: ({ principal }) => principal.kind === 'service' && principal.clientId === clientId,
  };
}

/** At least one rule holds; evaluated left to right, so put cheap rules first. */
export function anyOf(...rules: PolicyRule[]): PolicyRule {
  return {
    description: `(${rules.map((r) => r.description).join(' or ')})`,
    async evaluate(context) {
      for (const rule of rules) if (await rule.evaluate(context)) return true;
      return false;
    },
  };
}

/** Every rule holds. */
export function allOf(...rules: PolicyRule[]): PolicyRule {
  return {
    description: `(${rules.map((r) => r.description).join(' and ')})`,
    async evaluate(context) {
      for (const rule of rules) if (!(await rule.evaluate(context))) return false;
      return true;
    },
  };
}
