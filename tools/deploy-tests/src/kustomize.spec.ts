import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderKustomization } from './lib/kustomize';

describe(renderKustomization.name, () => {
  let dir: string;
  const write = (files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };
  const peerAuthentication = (portKey: string) => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: api }
spec:
  mtls: { mode: STRICT }
  portLevelMtls:
    ${portKey}: { mode: PERMISSIVE }
`;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kustomize-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('renders with kubectl kustomize: nested kustomizations, namespace and images', () => {
    write({
      'base/kustomization.yaml': 'resources: [api]\n',
      'base/api/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'base/api/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec: { containers: [{ name: api, image: acme/api }] }
`,
      'prod/kustomization.yaml':
        'namespace: prod\nresources: [../base]\nimages: [{ name: acme/api, newName: registry/acme/api, newTag: "1.0" }]\n',
    });
    const [api] = renderKustomization(join(dir, 'prod'));
    expect(api.metadata).toEqual({ name: 'api', namespace: 'prod' });
    expect(api['spec']).toMatchObject({
      template: { spec: { containers: [{ image: 'registry/acme/api:1.0' }] } },
    });
  });

  it('fails as kubectl does on a map with integer keys, which Istio port maps need quoted', () => {
    write({
      'bad/kustomization.yaml': 'resources: [p.yaml]\n',
      'bad/p.yaml': peerAuthentication('3001'),
      'good/kustomization.yaml': 'resources: [p.yaml]\n',
      'good/p.yaml': peerAuthentication('"3001"'),
    });
    expect(() => renderKustomization(join(dir, 'bad'))).toThrow(/kubectl kustomize .* failed/);
    expect(renderKustomization(join(dir, 'good'))[0]['spec']).toMatchObject({
      portLevelMtls: { '3001': { mode: 'PERMISSIVE' } },
    });
  });

  it('says what to install when kubectl is missing, rather than render nothing', () => {
    write({ 'kustomization.yaml': 'resources: []\n' });
    const path = process.env['PATH'];
    process.env['PATH'] = dir;
    try {
      expect(() => renderKustomization(dir)).toThrow(/kubectl not found: .*Install kubectl/);
    } finally {
      process.env['PATH'] = path;
    }
  });
});
