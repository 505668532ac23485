import Ajv from 'ajv';
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  ports?: (string | Record<string, unknown>)[];
  environment?: Record<string, string> | string[];
  env_file?: string[];
  secrets?: (string | { source: string; target?: string })[];
  networks?: string[] | Record<string, unknown>;
  depends_on?: string[] | Record<string, unknown>;
  [field: string]: unknown;
}

export interface ComposeModel {
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean } | null>;
  secrets: Record<string, { file?: string; environment?: string; content?: string }>;
  volumes: Record<string, unknown>;
}

export interface ComposeFile {
  path: string;
  data: Record<string, unknown>;
}

const RESOURCES = ['services', 'networks', 'secrets', 'volumes', 'configs'] as const;

/**
 * The root compose file and the files it includes, and the model compose
 * builds from them: resources merged the way `include:` merges them (a name
 * defined twice must be defined identically), relative paths resolved against
 * the file that names them.
 */
export function loadCompose(rootFile: string): { files: ComposeFile[]; model: ComposeModel } {
  const root = readCompose(rootFile);
  const files = [root];
  const model: Record<string, Record<string, unknown>> = {};
  const includes = (root.data['include'] as (string | { path: string })[] | undefined) ?? [];
  for (const entry of includes) {
    const file = readCompose(
      resolve(dirname(rootFile), typeof entry === 'string' ? entry : entry.path),
    );
    files.push(file);
    importResources(model, resolvePaths(file), file.path);
  }
  importResources(model, resolvePaths(root), root.path);
  return {
    files,
    model: {
      services: (model['services'] ?? {}) as ComposeModel['services'],
      networks: (model['networks'] ?? {}) as ComposeModel['networks'],
      secrets: (model['secrets'] ?? {}) as ComposeModel['secrets'],
      volumes: model['volumes'] ?? {},
    },
  };
}

/** Validates a compose file against the Compose Specification's JSON schema (as shipped by dclint). */
export function composeSchemaErrors(data: unknown): string[] {
  const validate = composeValidator();
  if (validate(data)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '/'} ${error.message ?? ''}`,
  );
}

let validator: ReturnType<Ajv['compile']> | undefined;
function composeValidator(): ReturnType<Ajv['compile']> {
  if (!validator) {
    const schemaFile = join(
      dirname(require.resolve('dclint/package.json')),
      'schemas/compose.schema.json',
    );
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    // A third-party draft-07 schema with keywords Ajv's strict mode does not know.
    validator = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
  }
  return validator;
}

function readCompose(path: string): ComposeFile {
  return { path, data: parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
}

function resolvePaths(file: ComposeFile): Record<string, Record<string, unknown>> {
  const dir = dirname(file.path);
  const copy = structuredClone(file.data) as Record<
    string,
    Record<string, Record<string, unknown>>
  >;
  for (const secret of Object.values(copy['secrets'] ?? {})) {
    if (typeof secret['file'] === 'string') secret['file'] = resolve(dir, secret['file']);
  }
  for (const service of Object.values(copy['services'] ?? {})) {
    const build = service['build'] as { context?: string } | undefined;
    if (build?.context) build.context = resolve(dir, build.context);
    if (Array.isArray(service['env_file'])) {
      service['env_file'] = service['env_file'].map((path: string) => resolve(dir, path));
    }
  }
  return copy;
}

function importResources(
  model: Record<string, Record<string, unknown>>,
  source: Record<string, Record<string, unknown>>,
  path: string,
): void {
  for (const kind of RESOURCES) {
    for (const [name, definition] of Object.entries(source[kind] ?? {})) {
      const target = (model[kind] ??= {});
      if (name in target && !isDeepStrictEqual(target[name], definition)) {
        throw new Error(`${path}: ${kind}.${name} conflicts with its definition in another file`);
      }
      target[name] = definition;
    }
  }
}
