import {
  addProjectConfiguration,
  readJson,
  readProjectConfiguration,
  workspaceRoot,
} from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as babel from 'prettier/plugins/babel';
import * as estree from 'prettier/plugins/estree';
import * as markdown from 'prettier/plugins/markdown';
import * as typescript from 'prettier/plugins/typescript';
import * as yaml from 'prettier/plugins/yaml';
import { format } from 'prettier/standalone';
import { parse, parseAllDocuments } from 'yaml';
import { microserviceGenerator } from './generator';
import { addComposeService } from './lib/add-compose-service';
import { addContracts } from './lib/add-contracts';
import { addKubernetesManifests } from './lib/add-kubernetes-manifests';
import { addServiceFiles } from './lib/add-service-files';
import { normalizeOptions } from './lib/normalize-options';
import type { MicroserviceGeneratorSchema } from './schema';

const APPS = [
  ['gateway', undefined],
  ['order', 4001],
  ['payment', 4002],
] as const;

/** The few files of this workspace the generator extends, on top of an empty workspace. */
function workspace(apps: readonly (typeof APPS)[number][] = APPS): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const [name, port] of apps) {
    addProjectConfiguration(tree, name, {
      root: `apps/${name}`,
      tags: ['type:app', `scope:${name}`],
    });
    tree.write(
      `apps/${name}/src/config.ts`,
      port ? `  ...listenerEnv(${port}),\n` : `  ...httpAppEnv(3000),\n`,
    );
  }
  tree.write(
    'libs/contracts/src/index.ts',
    "export { HEALTH_PATTERN } from './lib/patterns.constants';\n",
  );
  tree.write(
    'eslint.config.mjs',
    [
      'export default [{',
      '  depConstraints: [',
      "    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },",
      "    { sourceTag: 'scope:order', onlyDependOnLibsWithTags: ['scope:order', 'scope:shared'] },",
      '  ],',
      '}];',
      '',
    ].join('\n'),
  );
  tree.write(
    'docker-compose.yml',
    'name: acme\n# one file per service\ninclude:\n  - deploy/compose/order.yml\n',
  );
  tree.write(
    'deploy/observability/prometheus/prometheus.yml',
    [
      '# scrape jobs',
      'scrape_configs:',
      '  - job_name: acme',
      '    static_configs:',
      "      - targets: ['order:9401']",
      '        labels:',
      '          app: order',
      '',
    ].join('\n'),
  );
  tree.write('k8s/base/kustomization.yaml', 'resources:\n  - platform.yaml\n  - order\n');
  tree.write(
    'k8s/overlays/prod/kustomization.yaml',
    'resources:\n  - ../../base\nimages:\n  - name: acme/order\n    newName: registry.example.com/acme/order\n    newTag: 1.2.3\n',
  );
  tree.write('k8s/overlays/mesh/kustomization.yaml', 'resources:\n  - ../prod\n');
  tree.write(
    'apps/auth-server/config/clients.json',
    JSON.stringify([
      { client_id: 'web', api_scopes: ['orders:read'] },
      { client_id: 'gateway', call_audiences: ['urn:acme:order'] },
      { client_id: 'order', call_audiences: ['urn:acme:payment'] },
    ]),
  );
  return tree;
}

const generate = (tree: Tree, options: Partial<MicroserviceGeneratorSchema> = {}) =>
  microserviceGenerator(tree, { name: 'inventory', skipFormat: true, ...options });

const read = (tree: Tree, path: string) => tree.read(path, 'utf-8') ?? '';
const readYaml = <T>(tree: Tree, path: string) => parse(read(tree, path)) as T;

/**
 * What the generator writes for a service, and order has by hand. Not its e2e
 * project: order is tested end to end among the other services, in apps/system-e2e.
 */
const SERVICE_FILES = ['apps/order', 'k8s/base/order', 'deploy/compose/order.yml'];

/**
 * How order's hand-written files differ from those the generator writes for a
 * service of the same name, each difference with its reason: the domain of
 * order (orders in a database, charged through payment). Anything else that
 * differs is drift, and fails.
 */
const ORDER_ONLY_FILES: Record<string, string> = {
  'apps/order/src/migrations.ts': 'the schema of its database',
  'apps/order/src/order/catalog.ts': 'the products an order may hold, with their prices',
  'apps/order/src/order/order-cursor.ts': 'the cursor of a keyset page of a database table',
  'apps/order/src/order/order-cursor.spec.ts': 'its spec',
  'apps/order/src/order/order-owner.loader.ts': 'loads an order for its isOwner policies',
  'apps/order/src/order/order-page.spec.ts': 'the worst-case size of a page of orders',
  'apps/order/src/order/order.table.ts': 'its table',
};
/** None: a file the generator writes and order lacks would be one order should have. */
const GENERATED_ONLY_FILES: Record<string, string> = {};
/** Files of both whose content is order's own. */
const ORDER_OWN_CONTENT: Record<string, string> = {
  'apps/order/README.md': 'its API and its configuration',
  'apps/order/src/config.spec.ts': 'its own defaults (PAYMENT_ADDRESS)',
  'apps/order/src/order/order.controller.ts': 'its handlers and their rules',
  'apps/order/src/order/order.module.ts': 'its client of payment and its policy loader',
  'apps/order/src/order/order.service.ts':
    'orders in PostgreSQL rather than example items in memory',
  'apps/order/src/order/order.service.spec.ts': 'the same, on the embedded database',
  'deploy/compose/order.yml': "its database and payment's address; called by payment too",
  'k8s/base/order/deployment.yaml': "its database secret and payment's address",
  'k8s/base/order/network-policy.yaml':
    'it also calls payment and PostgreSQL; its callers admit their calls to it in their own policies, where a generated service adds an <name>-callers policy rather than editing theirs',
};
/** Exact fragments of order's shared plumbing that the generated service has not. */
const ORDER_ONLY_FRAGMENTS: { file: string; reason: string; fragments: string[] }[] = [
  // First: they sit between fragments of the entries below.
  {
    file: 'apps/order/src/app.module.ts',
    reason:
      "consumes payment's events from a broker when BROKER_URL is set (docs/events.md): a generated service has no database, which the event generator (nx g @acme/workspace-plugin:event) requires before it wires the broker in",
    fragments: [
      '  brokerOptionsFrom,\n',
      "import { EventsModule } from '@acme/events';\n",
      [
        '    EventsModule.forRootAsync({',
        '      inject: [ConfigService],',
        '      useFactory: (config: ConfigService<OrderConfig, true>) =>',
        '        brokerOptionsFrom(config, SERVICE_NAME),',
        '    }),\n',
      ].join('\n'),
    ],
  },
  {
    file: 'apps/order/src/config.ts',
    reason: 'the same: its broker keys (BROKER_URL)',
    fragments: ['  brokerEnv,\n', '  ...brokerEnv(),\n'],
  },
  {
    file: 'apps/order/src/app.module.ts',
    reason: 'keeps its orders in its own database',
    fragments: [
      '  persistenceFrom,\n',
      "import { PersistenceModule } from '@acme/persistence';\n",
      "import { ORDER_MIGRATIONS } from './migrations';\n",
      [
        '    PersistenceModule.forRootAsync({',
        '      inject: [ConfigService],',
        '      useFactory: (config: ConfigService<OrderConfig, true>) =>',
        '        persistenceFrom(config, ORDER_MIGRATIONS),',
        '    }),\n',
      ].join('\n'),
    ],
  },
  {
    file: 'apps/order/src/app.module.ts',
    reason: "its health answer reports payment's, the service it calls",
    fragments: ["      dependencies: ['payment'],\n"],
  },
  {
    file: 'apps/order/src/config.ts',
    reason: 'calls payment: its address, timeouts, retries and circuit breaker',
    fragments: [
      '  addressEnv,\n  calleeAudienceEnv,\n  callerEnv,\n',
      '  ...callerEnv(SERVICE_NAME),\n',
      "  PAYMENT_ADDRESS: addressEnv('localhost:4002').describe('host:port of the payment service.'),\n  PAYMENT_AUDIENCE: calleeAudienceEnv('payment'),\n",
    ],
  },
  {
    file: 'apps/order/src/config.ts',
    reason: 'keeps its orders in its own database',
    fragments: ['  databaseEnv,\n', "  ...databaseEnv(SERVICE_NAME, 'orders'),\n"],
  },
];

const PRETTIER = JSON.parse(readFileSync(join(workspaceRoot, '.prettierrc'), 'utf-8')) as object;

/** Formatted as `npm run format` would (the generator formats what it writes), objects collapsed where they fit. */
async function formatted(path: string, text: string): Promise<string> {
  if (path.endsWith('.json')) return JSON.stringify(JSON.parse(text), null, 2);
  const extension = path.slice(path.lastIndexOf('.') + 1);
  const parser =
    { ts: 'typescript', md: 'markdown', yaml: 'yaml', yml: 'yaml' }[extension] ?? 'babel';
  return format(text, {
    ...PRETTIER,
    parser,
    plugins: [babel, estree, markdown, typescript, yaml],
    objectWrap: 'collapse',
  });
}

/** The files of the tree at these paths and under them. */
function treeFiles(tree: Tree, paths: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (path: string) => {
    if (tree.isFile(path)) files.set(path, read(tree, path));
    else tree.children(path).forEach((child) => visit(`${path}/${child}`));
  };
  paths.forEach(visit);
  return files;
}

/** order's files on disk, its `orders` feature named `order` as the generator names a service's feature. */
function handWrittenOrder(): Map<string, string> {
  const singular = (text: string) => text.replace(/orders/g, 'order').replace(/Orders/g, 'Order');
  const files = new Map<string, string>();
  const visit = (path: string) => {
    const absolute = join(workspaceRoot, path);
    if (statSync(absolute).isDirectory()) {
      readdirSync(absolute).forEach((child) => visit(`${path}/${child}`));
      return;
    }
    let text = readFileSync(absolute, 'utf-8');
    for (const { fragments } of ORDER_ONLY_FRAGMENTS.filter((entry) => entry.file === path)) {
      for (const fragment of fragments) {
        if (!text.includes(fragment)) {
          throw new Error(`${path} no longer has ${JSON.stringify(fragment)}`);
        }
        text = text.replace(fragment, '');
      }
    }
    files.set(singular(path), singular(text));
  };
  SERVICE_FILES.forEach(visit);
  return files;
}

describe('microservice generator', () => {
  describe('a service generated as order, beside the hand-written apps/order', () => {
    let generated: Map<string, string>;
    let handWritten: Map<string, string>;

    beforeAll(async () => {
      const tree = workspace(APPS.filter(([name]) => name !== 'order'));
      await generate(tree, { name: 'order', port: 4001 });
      generated = treeFiles(tree, SERVICE_FILES);
      handWritten = handWrittenOrder();
    });

    it("has order's files, but for those of order's domain", () => {
      const missingFrom = (files: Map<string, string>, others: Map<string, string>) =>
        [...others.keys()].filter((path) => !files.has(path)).sort();
      expect({
        orderOnly: missingFrom(generated, handWritten),
        generatedOnly: missingFrom(handWritten, generated),
      }).toEqual({
        orderOnly: Object.keys(ORDER_ONLY_FILES).sort(),
        generatedOnly: Object.keys(GENERATED_ONLY_FILES).sort(),
      });
      const both = (path: string) => generated.has(path) && handWritten.has(path);
      expect(Object.keys(ORDER_OWN_CONTENT).filter((path) => !both(path))).toEqual([]);
    });

    it("writes order's bootstrap, config, module wiring, audit, project, tool configs and manifests", async () => {
      const shared = [...generated.keys()]
        .filter((path) => handWritten.has(path) && !(path in ORDER_OWN_CONTENT))
        .sort();
      const contents = async (files: Map<string, string>) =>
        Object.fromEntries(
          await Promise.all(
            shared.map(async (path) => [path, await formatted(path, files.get(path) ?? '')]),
          ),
        ) as Record<string, string>;
      expect(shared).toEqual(
        expect.arrayContaining(['apps/order/src/main.ts', 'k8s/base/order/certificate.yaml']),
      );
      expect(await contents(generated)).toEqual(await contents(handWritten));
    });
  });

  describe('a TCP service', () => {
    let tree: Tree;

    beforeAll(async () => {
      tree = workspace();
      await generate(tree, { callers: 'gateway, order' });
    });

    it('creates the app through @nx/nest with the tags of a scoped app', () => {
      const project = readProjectConfiguration(tree, 'inventory');
      expect(project.root).toBe('apps/inventory');
      expect(project.tags).toEqual(['type:app', 'scope:inventory']);
      expect(project.targets?.['serve']?.options?.inspect).toBe(false);
      expect(project.targets?.['serve']?.dependsOn).toBeUndefined();
      expect(tree.exists('apps/inventory/webpack.config.js')).toBe(true);
      expect(read(tree, 'apps/inventory/webpack.config.js')).not.toContain('assets');
    });

    it('replaces the placeholder app with the bootstrap, config, auth, health and feature files', () => {
      expect(tree.exists('apps/inventory/src/app')).toBe(false);
      expect(read(tree, 'apps/inventory/src/main.ts')).toContain(
        'void createMicroservice(AppModule);',
      );
      for (const file of [
        'config.ts',
        'config.spec.ts',
        'app.module.ts',
        'route-audit.spec.ts',
        'inventory/inventory.controller.ts',
        'inventory/inventory.module.ts',
        'inventory/inventory.service.ts',
        'inventory/inventory.service.spec.ts',
      ]) {
        expect(tree.exists(`apps/inventory/src/${file}`)).toBe(true);
      }
      expect(read(tree, 'apps/inventory/jest.config.cts')).not.toContain('ts-jest');
    });

    it('picks the next free port, and accepts its own audience only', () => {
      const config = read(tree, 'apps/inventory/src/config.ts');
      expect(config).toContain('listenerEnv(4003)');
      // serviceEnv's AUTH_AUDIENCE defaults to it already.
      expect(config).toContain('...serviceEnv(SERVICE_NAME),');
      expect(read(tree, 'apps/inventory/src/config.spec.ts')).toContain(
        "expect(validateInventoryEnv({}).AUTH_AUDIENCE).toBe('urn:acme:inventory');",
      );
    });

    it("skips a port whose metrics port (+ 5400) another app's metrics already hold", async () => {
      const withAuthServer = workspace();
      // The auth-server serves its metrics on 9403, the metrics port 4003 would get.
      withAuthServer.write('apps/auth-server/src/config.ts', '  ...metricsEnv(9403),\n');
      await generate(withAuthServer, { callers: 'gateway' });
      const config = read(withAuthServer, 'apps/inventory/src/config.ts');
      expect(config).toContain('listenerEnv(4004)');
      expect(config).toContain('metricsEnv(9404)');
    });

    it("lets each caller's OAuth client get tokens for its audience, and no other client", () => {
      expect(readJson(tree, 'apps/auth-server/config/clients.json')).toEqual([
        { client_id: 'web', api_scopes: ['orders:read'] },
        { client_id: 'gateway', call_audiences: ['urn:acme:order', 'urn:acme:inventory'] },
        { client_id: 'order', call_audiences: ['urn:acme:payment', 'urn:acme:inventory'] },
      ]);
    });

    it('guards the example handler with the callers, a role and a scope', () => {
      const controller = read(tree, 'apps/inventory/src/inventory/inventory.controller.ts');
      expect(controller).toContain("@AllowServices('gateway', 'order')");
      expect(controller).toContain("@Roles('user')");
      expect(controller).toContain("@Scopes('inventory:read')");
      expect(read(tree, 'apps/inventory/src/app.module.ts')).toContain(
        "HealthModule.forMicroservice({ service: SERVICE_NAME, callers: ['gateway', 'order'] })",
      );
    });

    it('shares its patterns, item and page types and page DTO through @acme/contracts', () => {
      expect(read(tree, 'libs/contracts/src/lib/inventory.constants.ts')).toContain(
        "list: 'inventory.list'",
      );
      expect(read(tree, 'libs/contracts/src/index.ts')).toContain(
        [
          "export { INVENTORY_PATTERNS } from './lib/inventory.constants';",
          "export { INVENTORY_MAX_PAGE_SIZE, ListInventoryDto } from './lib/inventory.dto';",
          "export type { InventoryItem, InventoryPage } from './lib/inventory.dto';",
        ].join('\n'),
      );
    });

    it('adds an e2e project that builds the service first and is not also a unit test project', () => {
      const e2e = readProjectConfiguration(tree, 'inventory-e2e');
      expect(e2e.tags).toEqual(['type:e2e', 'scope:inventory']);
      expect(e2e.targets?.['e2e']?.dependsOn).toEqual([
        { projects: ['inventory'], target: 'build' },
      ]);
      expect(tree.exists('apps/inventory-e2e/src/inventory.e2e-spec.ts')).toBe(true);
      expect(tree.exists('apps/inventory-e2e/src/support/global-setup.ts')).toBe(false);
      const jestPlugin = readJson(tree, 'nx.json').plugins.find(
        (plugin: { plugin?: string }) => plugin.plugin === '@nx/jest/plugin',
      );
      expect(jestPlugin.exclude).toContain('apps/inventory-e2e/**/*');
    });

    it('gives scope:inventory its module-boundary rule', () => {
      expect(read(tree, 'eslint.config.mjs')).toContain(
        "    { sourceTag: 'scope:order', onlyDependOnLibsWithTags: ['scope:order', 'scope:shared'] },\n" +
          "    { sourceTag: 'scope:inventory', onlyDependOnLibsWithTags: ['scope:inventory', 'scope:shared'] },\n  ],",
      );
    });

    it('writes its compose file and includes it, keeping the root file as it was', () => {
      expect(read(tree, 'docker-compose.yml')).toBe(
        'name: acme\n# one file per service\ninclude:\n  - deploy/compose/order.yml\n  - deploy/compose/inventory.yml\n',
      );
      const compose = readYaml<{ services: Record<string, Record<string, unknown>> }>(
        tree,
        'deploy/compose/inventory.yml',
      );
      const service = compose.services['inventory'];
      expect(service['ports']).toBeUndefined();
      expect(service['networks']).toEqual(['internal']);
      expect(service['environment']).toMatchObject({
        PORT: '4003',
        AUTH_AUDIENCE: 'urn:acme:inventory',
      });
    });

    it("adds its metrics port to the compose Prometheus's targets, keeping the others and the comments", () => {
      const prometheus = read(tree, 'deploy/observability/prometheus/prometheus.yml');
      expect(prometheus).toMatch(/^# scrape jobs\n/);
      expect(parse(prometheus)).toEqual({
        scrape_configs: [
          {
            job_name: 'acme',
            static_configs: [
              { targets: ['order:9401'], labels: { app: 'order' } },
              { targets: ['inventory:9403'], labels: { app: 'inventory' } },
            ],
          },
        ],
      });
      expect(
        readYaml<{ services: Record<string, { environment: Record<string, string> }> }>(
          tree,
          'deploy/compose/inventory.yml',
        ).services['inventory'].environment,
      ).toMatchObject({ METRICS_PORT: '9403', METRICS_HOST: '0.0.0.0' });
    });

    it('writes its Kubernetes folder, lists it in the base and in the overlays that pin images, and admits its callers in the mesh', () => {
      expect(readYaml(tree, 'k8s/base/kustomization.yaml')).toEqual({
        resources: ['platform.yaml', 'order', 'inventory'],
      });
      expect(
        readYaml<{ images: unknown[] }>(tree, 'k8s/overlays/prod/kustomization.yaml').images,
      ).toContainEqual({
        name: 'acme/inventory',
        newName: 'registry.example.com/acme/inventory',
        newTag: '1.2.3',
      });
      expect(readYaml(tree, 'k8s/overlays/mesh/kustomization.yaml')).toEqual({
        resources: ['../prod', 'authorization/inventory.yaml'],
      });
      const [authorization, peerAuthentication] = parseAllDocuments(
        read(tree, 'k8s/overlays/mesh/authorization/inventory.yaml'),
      ).map((document) => document.toJS() as unknown);
      expect(authorization).toMatchObject({
        kind: 'AuthorizationPolicy',
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': 'inventory' } },
          action: 'ALLOW',
          rules: [
            {
              from: [
                {
                  source: {
                    principals: [
                      'cluster.local/ns/acme/sa/gateway',
                      'cluster.local/ns/acme/sa/order',
                    ],
                  },
                },
              ],
              to: [{ operation: { ports: ['4003'] } }],
            },
            // Its metrics port, which its NetworkPolicy opens to Prometheus alone.
            { to: [{ operation: { ports: ['9403'] } }] },
          ],
        },
      });
      expect(peerAuthentication).toEqual({
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: { name: 'inventory' },
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': 'inventory' } },
          mtls: { mode: 'STRICT' },
          portLevelMtls: { '9403': { mode: 'PERMISSIVE' } },
        },
      });
      expect(readYaml(tree, 'k8s/base/inventory/service-account.yaml')).toMatchObject({
        kind: 'ServiceAccount',
        metadata: { name: 'inventory' },
        automountServiceAccountToken: false,
      });
      expect(read(tree, 'k8s/base/inventory/deployment.yaml')).toContain(
        'serviceAccountName: inventory',
      );
      const certificate = readYaml<{ spec: { uris: string[]; dnsNames: string[] } }>(
        tree,
        'k8s/base/inventory/certificate.yaml',
      );
      expect(certificate.spec).toMatchObject({
        uris: ['spiffe://acme.internal/inventory'],
        dnsNames: ['inventory'],
      });
      expect(read(tree, 'k8s/base/inventory/network-policy.yaml')).toContain(
        'values: [gateway, order]',
      );
    });

    it('serves its metrics on a named pod port that only Prometheus may reach', () => {
      const deployment = readYaml<{
        spec: {
          template: {
            metadata: { annotations: Record<string, string> };
            spec: { containers: { ports: unknown[]; env: { name: string; value: string }[] }[] };
          };
        };
      }>(tree, 'k8s/base/inventory/deployment.yaml');
      const [container] = deployment.spec.template.spec.containers;
      expect(container.ports).toEqual([
        { name: 'rpc', containerPort: 4003 },
        { name: 'metrics', containerPort: 9403 },
      ]);
      expect(container.env).toEqual(
        expect.arrayContaining([
          { name: 'METRICS_PORT', value: '9403' },
          { name: 'METRICS_HOST', value: '0.0.0.0' },
        ]),
      );
      expect(deployment.spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9403',
        'prometheus.io/path': '/metrics',
      });
      const [policy] = read(tree, 'k8s/base/inventory/network-policy.yaml')
        .split('\n---\n')
        .map((text) => parse(text) as { spec: { ingress: unknown[] } });
      expect(policy.spec.ingress).toContainEqual({
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: 9403 }],
      });
    });
  });

  describe('an HTTP service (--http)', () => {
    let tree: Tree;

    // The @nx/nest part is the same as above and takes half a minute: only the steps that differ run here.
    beforeAll(() => {
      tree = workspace();
      const options = normalizeOptions(tree, {
        name: 'storefront',
        http: true,
        port: 4100,
        audience: 'https://shop.acme.example',
      });
      addServiceFiles(tree, options);
      addContracts(tree, options);
      addComposeService(tree, options);
      addKubernetesManifests(tree, options);
    });

    it('starts with createHttpApp and serves its example route and a public health check', () => {
      expect(read(tree, 'apps/storefront/src/main.ts')).toContain(
        "void createHttpApp<StorefrontConfig>(AppModule, { globalPrefix: 'api' });",
      );
      expect(read(tree, 'apps/storefront/src/storefront/storefront.controller.ts')).toContain(
        "@Controller('storefront')",
      );
      expect(read(tree, 'apps/storefront/src/app.module.ts')).toContain('HealthModule.forHttp()');
      const audit = read(tree, 'apps/storefront/src/route-audit.spec.ts');
      expect(audit).toContain("globalPrefix: 'api'");
      expect(audit).toContain("'GET /healthz',\n      'GET /readyz',\n    ]);");
    });

    it('takes the given port and audience, and needs no message patterns', () => {
      const config = read(tree, 'apps/storefront/src/config.ts');
      expect(config).toContain('...httpAppEnv(4100)');
      expect(config).toContain("...serviceEnv(SERVICE_NAME, 'https://shop.acme.example'),");
      expect(tree.exists('libs/contracts/src/lib/storefront.constants.ts')).toBe(false);
    });

    it('probes /healthz and /readyz over HTTP in compose and Kubernetes', () => {
      expect(read(tree, 'deploy/compose/storefront.yml')).toContain(
        'HEALTHCHECK_HTTP_PATH: /healthz',
      );
      const deployment = read(tree, 'k8s/base/storefront/deployment.yaml');
      expect(deployment).toContain('path: /readyz');
      expect(deployment).toContain('path: /healthz');
    });
  });

  describe('refuses', () => {
    it.each([
      [
        'an invalid name',
        { name: 'Inventory_Service' },
        /Invalid service name "Inventory_Service": use kebab-case/,
      ],
      ['a name ending in -e2e', { name: 'stock-e2e' }, /reserved for test projects/],
      [
        'an existing project',
        { name: 'order' },
        /a project or folder named "order" already exists/,
      ],
      [
        'an unknown caller',
        { callers: 'gateway,billing' },
        /Unknown caller "billing": callers must be apps tagged type:app \(gateway, order, payment\)/,
      ],
      ['no caller', { callers: ' , ' }, /--callers needs at least one service/],
      ['itself as a caller', { callers: 'inventory' }, /a service does not call itself/],
    ])('%s', async (_case, options, message) => {
      const tree = workspace();
      await expect(generate(tree, options)).rejects.toThrow(message);
      expect(tree.exists('apps/inventory')).toBe(false);
    });
  });
});
