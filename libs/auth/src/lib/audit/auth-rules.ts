import { RequestMethod } from '@nestjs/common';
import type { DynamicModule, Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { declaredRules, isBrokerEventHandler } from '../decorators/auth-metadata';
import type { HandlerRules } from '../decorators/auth-metadata';

/** The auth rule a route or message handler declares, as read from its decorators. */
export interface AuthRuleEntry {
  /** A route, a message handler, or a broker event handler (`@EventPattern('events.…')`). */
  kind: 'http' | 'rpc' | 'event';
  /** `GET /api/orders/:id`, or the message pattern, or the event subject. */
  route: string;
  handler: string;
  public: boolean;
  roles?: string;
  scopes?: string;
  policy?: string;
  services?: string;
}

/** What a handler's auth decorators declare, as the guards read them, its policy by its description. */
export type DeclaredAuthRule = Omit<HandlerRules, 'policy' | 'brokerEvent'> & {
  /** The policy's description. */
  policy?: string;
};

/**
 * The auth rule declared on `handler`, a method of `controller`.
 *
 * @example
 * declaredAuthRule(OrdersController.prototype.get, OrdersController).scopes; // ['orders:read']
 */
export function declaredAuthRule(handler: object, controller: object): DeclaredAuthRule {
  const { public: isPublic, roles, scopes, policy, services } = declaredRules(handler, controller);
  return { public: isPublic, roles, scopes, policy: policy?.description, services };
}

type ModuleLike = Type<unknown> | DynamicModule | Promise<DynamicModule>;

/**
 * Every controller route and message handler reachable from a module, with
 * the auth rule it declares. Reads decorator metadata only: no app is started.
 *
 * @example
 * const entries = collectAuthRules(AppModule, { globalPrefix: 'api' });
 */
export function collectAuthRules(
  root: Type<unknown>,
  options: { globalPrefix?: string; excludeFromPrefix?: readonly string[] } = {},
): AuthRuleEntry[] {
  const entries: AuthRuleEntry[] = [];
  for (const controller of controllersOf(root)) {
    const basePath =
      (Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined) ?? '';
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const route = routeOf(
        handler,
        basePath,
        options.globalPrefix,
        options.excludeFromPrefix ?? [],
      );
      if (!route) continue;
      const rule = declaredAuthRule(handler, controller);
      entries.push({
        ...route,
        handler: `${controller.name}.${name}`,
        public: rule.public,
        roles: rule.roles
          ? `${rule.roles.match === 'all' ? 'all of' : 'any of'} ${rule.roles.roles.join(', ')}`
          : undefined,
        scopes: rule.scopes?.join(' '),
        policy: rule.policy,
        services: rule.services?.join(', '),
      });
    }
  }
  return entries.sort((a, b) => a.route.localeCompare(b.route));
}

/**
 * Why an entry fails the deny-by-default audit, or undefined when it passes:
 * every handler is public or declares roles, scopes or a policy, and every
 * message handler also names the services that may send it.
 */
export function auditFinding(entry: AuthRuleEntry): string | undefined {
  if (!entry.public && !entry.roles && !entry.scopes && !entry.policy) {
    return `${entry.route} (${entry.handler}) declares no auth rule: add @Public(), @Roles(), @Scopes() or @Policy()`;
  }
  if (entry.kind !== 'http' && !entry.services) {
    return `${entry.route} (${entry.handler}) names no calling service: add @AllowServices()`;
  }
  return undefined;
}

/** A markdown table of the entries, for the authorization report. */
export function renderAuthRules(entries: readonly AuthRuleEntry[]): string {
  const cell = (value: string | undefined) => (value ? value.replace(/\|/g, '\\|') : '-');
  const rows = entries.map(
    (e) =>
      `| ${e.kind === 'event' ? 'event ' : ''}\`${e.route}\` | ${e.public ? 'yes' : 'no'} | ${cell(e.roles)} | ${cell(e.scopes)} | ${cell(e.policy)} | ${cell(e.services)} |`,
  );
  return [
    '| Route / pattern | Public | Roles | Scopes | Policy | Calling services |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function routeOf(
  handler: object,
  basePath: string | string[],
  globalPrefix: string | undefined,
  excludeFromPrefix: readonly string[],
): Pick<AuthRuleEntry, 'kind' | 'route'> | undefined {
  const patterns = Reflect.getMetadata(PATTERN_METADATA, handler) as unknown[] | undefined;
  if (patterns?.length) {
    return {
      kind: isBrokerEventHandler(handler) ? 'event' : 'rpc',
      route: patterns.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(', '),
    };
  }
  const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  if (path === undefined || method === undefined) return undefined;
  const own = [first(basePath), first(path)]
    .filter((s) => !!s && s !== '/')
    .map((s) => s.replace(/^\/|\/$/g, ''))
    .join('/');
  const prefix = globalPrefix && !excludeFromPrefix.includes(own) ? `${globalPrefix}/` : '';
  return { kind: 'http', route: `${RequestMethod[method]} /${prefix}${own}` };
}

function first(path: string | string[]): string {
  return Array.isArray(path) ? (path[0] ?? '') : path;
}

function controllersOf(root: Type<unknown>): Type<unknown>[] {
  const seen = new Set<unknown>();
  const controllers: Type<unknown>[] = [];
  const visit = (entry: ModuleLike | undefined) => {
    if (!entry || entry instanceof Promise || seen.has(entry)) return;
    seen.add(entry);
    const moduleClass = 'module' in entry ? entry.module : entry;
    const dynamic = 'module' in entry ? entry : undefined;
    const own =
      (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, moduleClass) as
        | Type<unknown>[]
        | undefined) ?? [];
    controllers.push(...own, ...(dynamic?.controllers ?? []));
    const imports =
      (Reflect.getMetadata(MODULE_METADATA.IMPORTS, moduleClass) as ModuleLike[] | undefined) ?? [];
    [...imports, ...((dynamic?.imports ?? []) as ModuleLike[])].forEach(visit);
  };
  visit(root);
  return [...new Set(controllers)];
}
