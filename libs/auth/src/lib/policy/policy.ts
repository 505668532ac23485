import { NotFoundException } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import type { Principal } from '../principal';

/** What a policy sees: the principal, the handler's input, and a way to reach providers. */
export interface PolicyContext {
  principal: Principal;
  /** The message payload over RPC; `{ params, query, body }` over HTTP. */
  input: unknown;
  resolve<T>(type: Type<T>): T;
  /**
   * The named IP lists (`IP_ALLOW_LISTS` of the gateway) that hold the client's
   * address: as the edge saw it, and over RPC only when an edge service says so.
   */
  clientNetworks: readonly string[];
  /** Hands the handler a resource loaded to decide (`@AuthorizedResource()`), so it is not read twice. */
  keep?(resource: unknown): void;
}

/** A declarative authorization rule: composable, and printable in the authorization report. */
export interface PolicyRule {
  readonly description: string;
  evaluate(context: PolicyContext): boolean | Promise<boolean>;
}

/**
 * Loads the resource a handler is about to touch, and tells who owns it.
 * Register it as a provider of the module that declares the policy; the
 * handler receives what it loaded through `@AuthorizedResource()`.
 *
 * @example
 * @Injectable() class OrderOwnerLoader implements ResourceOwnerLoader<Order> {
 *   load(input: unknown) { return this.orders.find((input as OrderIdDto).id); }
 *   ownerOf(order: Order) { return order.ownerId; }
 * }
 */
export interface ResourceOwnerLoader<R = unknown> {
  /** The resource the input names, or undefined when there is none (the call then gets 404). */
  load(input: unknown): R | undefined | Promise<R | undefined>;
  /** The `sub` of the user who owns it. */
  ownerOf(resource: R): string;
}

/**
 * The principal is a user with this role; with `from`, and the client comes
 * from the named IP list (see {@link fromNetwork}).
 *
 * @example
 * @Policy(anyOf(hasRole('admin', { from: 'admin' }), isOwner(OrderOwnerLoader)))
 */
export function hasRole(role: string, options: { from?: string } = {}): PolicyRule {
  const { from } = options;
  const network = from === undefined ? undefined : fromNetwork(from);
  return {
    description:
      from === undefined ? `hasRole('${role}')` : `hasRole('${role}', { from: '${from}' })`,
    evaluate: (context) =>
      context.principal.kind === 'user' &&
      context.principal.roles.includes(role) &&
      (network?.evaluate(context) ?? true),
  };
}

/**
 * The client comes from the named IP list of the gateway's `IP_ALLOW_LISTS`,
 * the same list `@IpAllow(name)` names. Only the gateway sees the client's
 * address (through its trusted proxies), and only the service that holds a
 * resource can tell its owner: so the gateway says which lists the address is
 * in, with every message, and the policy where the data lives decides. The
 * ranges stay declared once, in the gateway's configuration.
 *
 * @example
 * @Policy(allOf(hasRole('operator'), fromNetwork('admin')))
 */
export function fromNetwork(name: string): PolicyRule {
  return {
    description: `fromNetwork('${name}')`,
    evaluate: ({ clientNetworks }) => clientNetworks.includes(name),
  };
}

/** The token grants this scope. */
export function hasScope(scope: string): PolicyRule {
  return {
    description: `hasScope('${scope}')`,
    evaluate: ({ principal }) => principal.scopes.includes(scope),
  };
}

/**
 * The principal is the user who owns the resource. A service token never owns
 * anything, even if its `sub` happened to equal a user id.
 */
export function isOwner(loader: Type<ResourceOwnerLoader>): PolicyRule {
  return {
    description: `isOwner(${loader.name})`,
    evaluate({ principal, input, resolve, keep }) {
      if (principal.kind !== 'user') return false;
      const owners = resolve(loader);
      // A `then` on the loader's answer, not an async function: on node 20 each promise
      // runs the call context's hooks, and an async function makes more of them.
      return Promise.resolve(owners.load(input)).then((resource) => {
        if (resource === undefined) throw new NotFoundException('not found');
        if (owners.ownerOf(resource) !== principal.subject) return false;
        keep?.(resource);
        return true;
      });
    },
  };
}

/**
 * The principal is the named service, acting for itself with a client-credentials
 * token: a token of the client id configured for it (`AUTH_SERVICE_CLIENTS`),
 * or, when none is, of the client named like the service.
 */
export function isService(service: string): PolicyRule {
  return {
    description: `isService('${service}')`,
    evaluate: ({ principal }) => principal.kind === 'service' && principal.service === service,
  };
}

/** At least one rule holds; evaluated left to right, so put cheap rules first. */
export function anyOf(...rules: PolicyRule[]): PolicyRule {
  return {
    description: `(${rules.map((r) => r.description).join(' or ')})`,
    evaluate: (context) => evaluateUntil(true, rules, 0, context),
  };
}

/** Every rule holds. */
export function allOf(...rules: PolicyRule[]): PolicyRule {
  return {
    description: `(${rules.map((r) => r.description).join(' and ')})`,
    evaluate: (context) => evaluateUntil(false, rules, 0, context),
  };
}

/**
 * Evaluates `rules` from `from` on, left to right, until one returns `decisive`: then that is
 * the answer, else its opposite. It waits only on a rule that cannot decide at once (one that
 * loads a resource), so rules that need nothing loaded answer without a promise.
 */
function evaluateUntil(
  decisive: boolean,
  rules: readonly PolicyRule[],
  from: number,
  context: PolicyContext,
): boolean | Promise<boolean> {
  for (let index = from; index < rules.length; index++) {
    const result = rules[index].evaluate(context);
    if (typeof result !== 'boolean') {
      return Promise.resolve(result).then((held) =>
        Boolean(held) === decisive ? decisive : evaluateUntil(decisive, rules, index + 1, context),
      );
    }
    if (result === decisive) return decisive;
  }
  return !decisive;
}

/**
 * The token reached this service through the named one: that service
 * exchanged it for this service's audience, and is its current actor (the
 * top-level `act`, RFC 8693 4.1; earlier actors are informational only).
 * Forwarded tokens (`AUTH_DELEGATION=forward`) carry no actor and never pass.
 *
 * @example
 * @Policy(allOf(calledVia('order'), isOwner(PayerLoader)))
 */
export function calledVia(service: string): PolicyRule {
  return {
    description: `calledVia('${service}')`,
    evaluate: ({ principal }) => principal.actors[0] === service,
  };
}
