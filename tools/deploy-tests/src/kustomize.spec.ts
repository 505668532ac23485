import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderKustomization, strategicMerge } from './lib/kustomize';

describe(renderKustomization.name, () => {
  let dir: string;
  const write = (files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: acme/api
          env: [{ name: A, value: '1' }, { name: B, value: '2' }]
`;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kustomize-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('renders nested kustomizations, then namespace, labels and images', () => {
    write({
      'base/kustomization.yaml':
        'resources: [api]\nlabels: [{ pairs: { team: core }, includeTemplates: true }]\n',
      'base/api/kustomization.yaml': 'resources: [deployment.yaml, namespace.yaml]\n',
      'base/api/deployment.yaml': deployment,
      'base/api/namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod }\n',
      'prod/kustomization.yaml':
        'namespace: prod\nresources: [../base]\nimages: [{ name: acme/api, newName: registry/acme/api, newTag: "1.0" }]\n',
    });
    const [api, namespace] = renderKustomization(join(dir, 'prod'));
    expect(api.metadata).toEqual({ name: 'api', namespace: 'prod', labels: { team: 'core' } });
    expect(api['spec']).toMatchObject({
      template: {
        metadata: { labels: { app: 'api', team: 'core' } },
        spec: { containers: [{ image: 'registry/acme/api:1.0' }] },
      },
    });
    expect(namespace.metadata.namespace).toBeUndefined();
  });

  it('applies strategic-merge patches: lists merged by key, null and $patch: delete remove', () => {
    write({
      'kustomization.yaml': 'resources: [deployment.yaml]\npatches: [{ path: patch.yaml }]\n',
      'deployment.yaml': deployment,
      'patch.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: 3
  template:
    metadata: { labels: { app: null } }
    spec:
      containers:
        - name: api
          env: [{ name: B, value: '20' }, { name: A, $patch: delete }, { name: C, value: '3' }]
`,
    });
    const [api] = renderKustomization(dir);
    expect(api['spec']).toEqual({
      replicas: 3,
      template: {
        metadata: { labels: {} },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'acme/api',
              env: [
                { name: 'B', value: '20' },
                { name: 'C', value: '3' },
              ],
            },
          ],
        },
      },
    });
  });

  it('refuses what it does not implement, a patch that matches nothing, and duplicate objects', () => {
    write({
      'a/kustomization.yaml': 'resources: [d.yaml]\nnamePrefix: x-\n',
      'a/d.yaml': deployment,
    });
    expect(() => renderKustomization(join(dir, 'a'))).toThrow(/unsupported fields namePrefix/);
    write({
      'b/kustomization.yaml': 'resources: [d.yaml]\npatches: [{ path: p.yaml }]\n',
      'b/d.yaml': deployment,
      'b/p.yaml': 'kind: Deployment\nmetadata: { name: other }\n',
    });
    expect(() => renderKustomization(join(dir, 'b'))).toThrow(/matches 0 objects/);
    write({
      'c/kustomization.yaml': 'resources: [d.yaml, e.yaml]\n',
      'c/d.yaml': deployment,
      'c/e.yaml': deployment,
    });
    expect(() => renderKustomization(join(dir, 'c'))).toThrow(/defined twice/);
  });
});

describe(strategicMerge.name, () => {
  it('replaces lists that have no merge key', () => {
    expect(strategicMerge({ rules: [1, 2], keep: true }, { rules: [3] })).toEqual({
      rules: [3],
      keep: true,
    });
  });
});
