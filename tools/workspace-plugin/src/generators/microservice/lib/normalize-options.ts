import { getProjects, names } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import type { MicroserviceGeneratorSchema } from '../schema';

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 30;
const FIRST_SERVICE_PORT = 4001;
/** A service's metrics port is its own port plus this (order: 4001, 9401). */
export const METRICS_PORT_OFFSET = 5400;
/**
 * The audience a service accepts unless told otherwise (`AUTH_AUDIENCE`), as
 * `serviceEnv` of @acme/bootstrap defaults it: its callers exchange their
 * callers' tokens for it.
 */
export function defaultAudience(name: string): string {
  return `urn:acme:${name}`;
}

export interface NormalizedOptions {
  /** kebab-case: project, folder, certificate, compose service and Kubernetes name. */
  name: string;
  /** `Inventory`, `InventoryItem`: class name stem. */
  className: string;
  /** `INVENTORY`, `INVENTORY_ITEM`: constant name stem. */
  constantName: string;
  /** `inventory`, `inventoryItem`: property name stem. */
  propertyName: string;
  projectRoot: string;
  e2eProjectName: string;
  e2eProjectRoot: string;
  http: boolean;
  callers: string[];
  port: number;
  audience: string;
  skipFormat: boolean;
}

/** Validates the options against the workspace and derives every name the templates use. */
export function normalizeOptions(
  tree: Tree,
  options: MicroserviceGeneratorSchema,
): NormalizedOptions {
  const name = (options.name ?? '').trim();
  assertServiceName(name, 'service name');
  if (name.endsWith('-e2e')) {
    throw new Error(
      `Invalid service name "${name}": the -e2e suffix is reserved for test projects.`,
    );
  }
  const projects = getProjects(tree);
  const e2eProjectName = `${name}-e2e`;
  for (const taken of [name, e2eProjectName]) {
    if (projects.has(taken) || tree.exists(`apps/${taken}`)) {
      throw new Error(
        `Cannot create service "${name}": a project or folder named "${taken}" already exists.`,
      );
    }
  }

  const apps = [...projects.entries()]
    .filter(([, project]) => project.tags?.includes('type:app'))
    .map(([projectName]) => projectName)
    .sort();
  const callers = [
    ...new Set(
      (options.callers ?? 'gateway')
        .split(',')
        .map((caller) => caller.trim())
        .filter(Boolean),
    ),
  ];
  if (callers.length === 0) {
    throw new Error('--callers needs at least one service: nobody could call this one.');
  }
  for (const caller of callers) {
    assertServiceName(caller, 'caller');
    if (caller === name) {
      throw new Error(`Invalid caller "${caller}": a service does not call itself.`);
    }
    if (!apps.includes(caller)) {
      throw new Error(
        `Unknown caller "${caller}": callers must be apps tagged type:app (${apps.join(', ') || 'none yet'}).`,
      );
    }
  }

  const port = options.port ?? nextFreePort(tree);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(`Invalid port ${port}: use 1024-65535.`);
  }
  const { className, constantName, propertyName } = names(name);
  return {
    name,
    className,
    constantName,
    propertyName,
    projectRoot: `apps/${name}`,
    e2eProjectName,
    e2eProjectRoot: `apps/${e2eProjectName}`,
    http: options.http ?? false,
    callers,
    port,
    audience: options.audience?.trim() || defaultAudience(name),
    skipFormat: options.skipFormat ?? false,
  };
}

function assertServiceName(name: string, what: string): void {
  if (!KEBAB_CASE.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new Error(
      `Invalid ${what} "${name}": use kebab-case (a-z, 0-9, single dashes, starting with a letter), at most ${MAX_NAME_LENGTH} characters.`,
    );
  }
}

/**
 * The lowest port from 4001 up that no app's config.ts names as its default,
 * and whose metrics port (+ 5400) none names either: 4003 would put a new
 * service's metrics on the auth-server's 9403.
 */
function nextFreePort(tree: Tree): number {
  const used = new Set<number>();
  const defaults = (config: string, call: RegExp) =>
    [...config.matchAll(call)].map((match) => Number(match[1].replace(/_/g, '')));
  for (const app of tree.exists('apps') ? tree.children('apps') : []) {
    const config = tree.read(`apps/${app}/src/config.ts`, 'utf-8') ?? '';
    const ports = defaults(config, /(?:listenerEnv\(|httpAppEnv\(|PORT:\s*intEnv\()\s*([\d_]+)/g);
    const metricsPorts = defaults(config, /metricsEnv\(\s*([\d_]+)/g);
    for (const port of [...ports, ...metricsPorts]) used.add(port);
  }
  let port = FIRST_SERVICE_PORT;
  while (used.has(port) || used.has(port + METRICS_PORT_OFFSET)) port++;
  return port;
}
