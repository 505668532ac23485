import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PATTERN_HANDLER_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import { PatternHandler } from '@nestjs/microservices/enums/pattern-handler.enum';
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
export const RolesMetadata = Reflector.createDecorator<RolesRequirement>({ key: 'auth:roles' });
export const ScopesMetadata = Reflector.createDecorator<readonly string[]>({ key: 'auth:scopes' });
export const PolicyMetadata = Reflector.createDecorator<PolicyRule>({ key: 'auth:policy' });
export const AllowServicesMetadata = Reflector.createDecorator<readonly string[]>({
  key: 'auth:services',
});

/** Every auth rule a handler declares: its own decorators first, then its controller's. */
export interface HandlerRules {
  public: boolean;
  roles?: RolesRequirement;
  scopes?: readonly string[];
  policy?: PolicyRule;
  /** `@AllowServices(...)`: the services that may send it. */
  services?: readonly string[];
  /** An `@EventPattern` under `events.`: accepted only signed, from the broker. */
  brokerEvent: boolean;
}

/**
 * The rules `handler`, a method of `controller`, declares, read from the metadata.
 *
 * @example
 * declaredRules(OrdersController.prototype.get, OrdersController).scopes; // ['orders:read']
 */
export function declaredRules(handler: object, controller: object): HandlerRules {
  const targets = [handler, controller];
  return {
    public: readFirst(PublicMetadata.KEY, targets) === true,
    roles: readFirst(RolesMetadata.KEY, targets) as RolesRequirement | undefined,
    scopes: readFirst(ScopesMetadata.KEY, targets) as readonly string[] | undefined,
    policy: readFirst(PolicyMetadata.KEY, targets) as PolicyRule | undefined,
    services: readFirst(AllowServicesMetadata.KEY, targets) as readonly string[] | undefined,
    brokerEvent: isBrokerEventHandler(handler),
  };
}

/**
 * An `@EventPattern` handler under `events.`: the guards accept it only signed, from the
 * broker, and the authorization report lists it as an event.
 */
export function isBrokerEventHandler(handler: object): boolean {
  return (
    Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) === PatternHandler.EVENT &&
    String(Reflect.getMetadata(PATTERN_METADATA, handler)?.[0] ?? '').startsWith('events.')
  );
}

// Decorators run when a class is defined, so a handler's rules never change once read: every
// guard of every call reads them here, from two map lookups instead of a dozen metadata walks.
const rulesByController = new WeakMap<object, WeakMap<object, HandlerRules>>();

/** The rules of the handler in front of a guard, read once per handler. */
export function handlerRules(context: ExecutionContext): HandlerRules {
  const handler = context.getHandler();
  const controller = context.getClass();
  let byHandler = rulesByController.get(controller);
  if (!byHandler) rulesByController.set(controller, (byHandler = new WeakMap()));
  let rules = byHandler.get(handler);
  if (!rules) byHandler.set(handler, (rules = declaredRules(handler, controller)));
  return rules;
}

/** Whether the handler, or its controller, is `@Public()`: open to callers without a token. */
export function isPublicRoute(context: ExecutionContext): boolean {
  return handlerRules(context).public;
}

function readFirst(key: string, targets: readonly object[]): unknown {
  for (const target of targets) {
    const value: unknown = Reflect.getMetadata(key, target);
    if (value !== undefined) return value;
  }
  return undefined;
}
