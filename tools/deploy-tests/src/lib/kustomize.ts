import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A Kubernetes object as plain data.
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/**
 * A small kustomize for the subset this repository uses, so the manifests can
 * be rendered and checked without kubectl (no maintained kustomize runs on
 * Node). Supported: `resources` (files and folders with their own
 * kustomization), `namespace`, `labels` (without `includeSelectors`), `images`,
 * and `patches` given as a strategic-merge patch file (no `target`). Merge keys
 * are those of the fields patched here (containers, env, volumes, volumeMounts,
 * ports); `null` deletes a field, `$patch: delete` a list item. Anything else
 * in a kustomization is an error rather than silently ignored.
 *
 * @example
 * const objects = renderKustomization('k8s/overlays/prod');
 */
export function renderKustomization(dir: string): KubeObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml']
    .map((name) => join(dir, name))
    .find(existsSync);
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const kustomization = readYaml(file)[0] as Kustomization;
  const unsupported = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) throw new Error(`${file}: unsupported fields ${unsupported.join(', ')}`);

  let objects: KubeObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (!existsSync(path)) throw new Error(`${file}: resource ${resource} not found`);
    objects.push(
      ...(statSync(path).isDirectory()
        ? renderKustomization(path)
        : (readYaml(path) as KubeObject[])),
    );
  }
  assertUnique(objects, file);
  for (const patch of kustomization.patches ?? [])
    objects = applyPatchFile(objects, dir, patch, file);
  if (kustomization.namespace) setNamespace(objects, kustomization.namespace);
  for (const labels of kustomization.labels ?? []) addLabels(objects, labels, file);
  for (const image of kustomization.images ?? []) setImage(objects, image);
  assertUnique(objects, file);
  return objects;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  labels?: {
    pairs: Record<string, string>;
    includeSelectors?: boolean;
    includeTemplates?: boolean;
  }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; target?: unknown; patch?: string }[];
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'patches',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterIssuer',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
/** Strategic-merge keys of the lists patched in this repository. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

function readYaml(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length) throw new Error(`${file}: ${document.errors[0].message}`);
      return document.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

const idOf = (object: KubeObject) =>
  `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;

function assertUnique(objects: readonly KubeObject[], file: string): void {
  const seen = new Set<string>();
  for (const object of objects) {
    if (seen.has(idOf(object))) throw new Error(`${file}: ${idOf(object)} is defined twice`);
    seen.add(idOf(object));
  }
}

function applyPatchFile(
  objects: KubeObject[],
  dir: string,
  entry: { path?: string; target?: unknown; patch?: string },
  file: string,
): KubeObject[] {
  if (!entry.path || entry.target || entry.patch)
    throw new Error(`${file}: only strategic-merge patch files (path:) are supported`);
  return readYaml(join(dir, entry.path)).reduce<KubeObject[]>((result, raw) => {
    const patch = raw as KubeObject;
    const matches = result.filter(
      (o) => o.kind === patch.kind && o.metadata.name === patch.metadata?.name,
    );
    if (matches.length !== 1)
      throw new Error(
        `${file}: patch ${entry.path} matches ${matches.length} objects (${patch.kind}/${patch.metadata?.name})`,
      );
    return result.map((o) => (o === matches[0] ? (strategicMerge(o, patch) as KubeObject) : o));
  }, objects);
}

/** Strategic merge of `patch` into `target` (both plain data), for the subset described above. */
export function strategicMerge(target: unknown, patch: unknown, field?: string): unknown {
  if (Array.isArray(patch)) {
    const key = field ? MERGE_KEYS[field] : undefined;
    if (!key || !Array.isArray(target)) return patch.filter((item) => !isDeleteDirective(item));
    const merged = [...(target as Record<string, unknown>[])];
    for (const item of patch as Record<string, unknown>[]) {
      const index = merged.findIndex((existing) => existing[key] === item[key]);
      if (isDeleteDirective(item)) {
        if (index >= 0) merged.splice(index, 1);
      } else if (index >= 0) {
        merged[index] = strategicMerge(merged[index], item) as Record<string, unknown>;
      } else {
        merged.push(item);
      }
    }
    return merged;
  }
  if (isObject(patch) && isObject(target)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [name, value] of Object.entries(patch)) {
      if (value === null) delete merged[name];
      else merged[name] = strategicMerge(merged[name], value, name);
    }
    return merged;
  }
  return patch;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isDeleteDirective = (item: unknown) => isObject(item) && item['$patch'] === 'delete';

function setNamespace(objects: KubeObject[], namespace: string): void {
  for (const object of objects)
    if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = namespace;
}

function addLabels(
  objects: KubeObject[],
  labels: NonNullable<Kustomization['labels']>[number],
  file: string,
): void {
  if (labels.includeSelectors) throw new Error(`${file}: labels.includeSelectors is not supported`);
  for (const object of objects) {
    object.metadata.labels = { ...object.metadata.labels, ...labels.pairs };
    const template = podTemplate(object);
    if (labels.includeTemplates && template)
      template.metadata = {
        ...template.metadata,
        labels: { ...template.metadata?.labels, ...labels.pairs },
      };
  }
}

function setImage(
  objects: KubeObject[],
  image: NonNullable<Kustomization['images']>[number],
): void {
  for (const object of objects) {
    const spec = podTemplate(object)?.spec;
    for (const container of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
      const name = container.image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
      if (name !== image.name) continue;
      const suffix = image.digest
        ? `@${image.digest}`
        : image.newTag
          ? `:${image.newTag}`
          : container.image.slice(name.length);
      container.image = `${image.newName ?? name}${suffix}`;
    }
  }
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { image: string }[]; initContainers?: { image: string }[] };
}

/** The pod template of a workload, if the object is one. */
export function podTemplate(object: KubeObject): PodTemplate | undefined {
  if (!WORKLOADS.has(object.kind)) return undefined;
  return (object['spec'] as { template?: PodTemplate } | undefined)?.template;
}
