import { spawnSync } from 'node:child_process';
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
 * Renders a kustomization with the real kustomize (`kubectl kustomize`, no
 * cluster needed), so what is checked is what `kubectl apply -k` would send.
 * Throws, naming what to install, when kubectl is missing: a deploy check
 * that silently renders nothing would pass anything.
 *
 * @example
 * const objects = renderKustomization('k8s/overlays/prod');
 */
export function renderKustomization(dir: string): KubeObject[] {
  const run = spawnSync('kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'kubectl not found: the deploy tests render k8s/ with `kubectl kustomize`. ' +
        'Install kubectl >= 1.27 (it bundles kustomize v5), e.g. from pkgs.k8s.io, and put it on the PATH.',
    );
  }
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((document) => {
      if (document.errors.length) throw new Error(`${dir}: ${document.errors[0].message}`);
      return document.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: { image: string }[]; initContainers?: { image: string }[] };
}

/** The pod template of a workload, if the object is one. */
export function podTemplate(object: KubeObject): PodTemplate | undefined {
  if (!WORKLOADS.has(object.kind)) return undefined;
  return (object['spec'] as { template?: PodTemplate } | undefined)?.template;
}
