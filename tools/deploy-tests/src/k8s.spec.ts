import { join } from 'node:path';
import { loadCompose } from './lib/compose';
import { schemaError } from './lib/kube-schema';
import { podTemplate, renderKustomization } from './lib/kustomize';
import type { KubeObject } from './lib/kustomize';
import { NetworkPolicies } from './lib/network-policy';
import type { Endpoint } from './lib/network-policy';
import { deployableApps, WORKSPACE } from './lib/workspace';

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}

interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}

const OVERLAYS = ['dev', 'prod', 'mesh'];
/** The services of the starter and who may call whom; a generated service adds its own callers. */
const KNOWN_EDGES = ['gateway -> order:4001', 'order -> payment:4002', 'payment -> order:4001'];
const KNOWN_APPS = ['auth-server', 'gateway', 'order', 'payment'];
const PUBLISHED = ['auth-server', 'gateway'];
/**
 * The services with an OAuth client (apps/auth-server/config/clients.json): they alone reach the
 * auth-server's mutual-TLS token endpoint. A generated service has none.
 */
const TOKEN_CLIENTS = ['gateway', 'order', 'payment'];
/** The auth-server's mutual-TLS token endpoint (MTLS_PORT), as in docker compose. */
const MTLS_PORT = 3443;
/** Every app serves GET /metrics (libs/bootstrap's metrics server), the auth-server included. */
const WITH_METRICS = () => deployableApps();
/** The metrics port of each of the starter's apps (docs/observability.md). */
const METRICS_PORTS: Record<string, number> = {
  gateway: 9400,
  order: 9401,
  payment: 9402,
  'auth-server': 9403,
};
/** The scraper the metrics ports admit (docs/deploy.md). */
const PROMETHEUS = {
  namespace: 'monitoring',
  labels: { 'app.kubernetes.io/name': 'prometheus' },
};
/** Secrets made by whoever deploys (docs/deploy.md), not by cert-manager. */
const EXTERNAL_SECRETS = [
  'auth-server-keys',
  'auth-server-redis',
  'auth-server-clients',
  'auth-server-users',
  'gateway-redis',
  'gateway-oauth-client',
  'order-database',
  'order-oauth-client',
  'payment-database',
  'payment-oauth-client',
  'payment-data-keys',
];

const render = (overlay: string) => renderKustomization(join(WORKSPACE, 'k8s/overlays', overlay));
const ofKind = <T = Record<string, unknown>>(objects: readonly KubeObject[], kind: string) =>
  objects.filter((object) => object.kind === kind) as (KubeObject & { spec: T })[];
const podSpec = (deployment: KubeObject) => podTemplate(deployment)?.spec as unknown as PodSpec;

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  const objects = render(overlay);
  const deployments = ofKind(objects, 'Deployment');

  it('renders objects that validate against the Kubernetes, cert-manager and Istio schemas', () => {
    expect(objects.length).toBeGreaterThan(20);
    const errors = objects
      .map((object) => [`${object.kind}/${object.metadata.name}`, schemaError(object)])
      .filter(([, error]) => error);
    expect(errors).toEqual([]);
  });

  it('puts everything in the acme namespace, which enforces the restricted Pod Security Standard', () => {
    const namespace = objects.find((object) => object.kind === 'Namespace');
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(
      objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'acme'),
    ).toBe(true);
  });

  it('deploys every app of the workspace with a Service, and pins every image to a tag', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(deployableApps());
    const services = ofKind(objects, 'Service').map((s) => s.metadata.name);
    // And the broker's (broker.spec.ts).
    expect(services.sort()).toEqual([...deployableApps(), 'nats', 'nats-headless'].sort());
    for (const deployment of deployments) {
      for (const container of podSpec(deployment).containers) {
        expect(container.image).toMatch(/:(?!latest$)[\w.-]+$|@sha256:/);
      }
    }
  });

  describe.each(deployableApps())('the %s Deployment', (app) => {
    const deployment = deployments.find((d) => d.metadata.name === app) as KubeObject;
    const spec = podSpec(deployment);

    it('runs as a non-root user with the runtime default seccomp profile, under its own service account without a token', () => {
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.serviceAccountName).toBe(app);
      expect(
        objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === app),
      ).toMatchObject({ automountServiceAccountToken: false });
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
    });

    it('gives every container a read-only root filesystem, no capabilities and no privilege escalation', () => {
      for (const container of spec.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    });

    it('has readiness and liveness probes, and resource requests and limits', () => {
      for (const container of spec.containers) {
        expect(container.readinessProbe).toBeDefined();
        expect(container.livenessProbe).toBeDefined();
        expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      }
    });

    it('reads secrets from Secrets it references, never from values in the manifest', () => {
      for (const variable of spec.containers.flatMap((container) => container.env ?? [])) {
        expect(variable.value ?? '').not.toMatch(/:\/\/[^/\s:@]+:[^/\s@]+@/);
        if (!/PASSWORD|SECRET|TOKEN|PRIVATE|KEY|DATABASE_URL|REDIS_URL/.test(variable.name)) {
          continue;
        }
        // Either a reference to a Secret, or the path of a file or folder mounted from one.
        if (/_(FILE|DIR)$/.test(variable.name)) {
          expect(variable.value).toMatch(/^\/var\/run\/secrets\//);
        } else {
          expect(variable.valueFrom).toEqual({ secretKeyRef: expect.anything() });
        }
      }
      const certificates = ofKind<{ secretName: string }>(objects, 'Certificate').map(
        (c) => c.spec.secretName,
      );
      for (const volume of spec.volumes ?? []) {
        if (volume.secret) {
          expect([...certificates, ...EXTERNAL_SECRETS]).toContain(volume.secret.secretName);
        }
      }
    });
  });

  describe.each(WITH_METRICS())('the metrics of %s', (app) => {
    const deployment = deployments.find((d) => d.metadata.name === app) as KubeObject;
    const [container] = podSpec(deployment).containers;
    const port = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
    const env = new Map((container.env ?? []).map((v) => [v.name, v.value]));

    it('are served on the pod network on a named port, which the scrape annotations name', () => {
      expect(port).toEqual(METRICS_PORTS[app] ?? expect.any(Number));
      expect(port).toBeGreaterThan(0);
      expect(env.get('METRICS_PORT')).toBe(String(port));
      expect(env.get('METRICS_HOST')).toBe('0.0.0.0');
      expect(podTemplate(deployment)?.metadata?.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
        // Under Istio, metrics merging would point these at its agent's port 15020, which no
        // NetworkPolicy opens: they stay on the service's own port.
        ...(overlay === 'mesh' ? { 'prometheus.istio.io/merge-metrics': 'false' } : {}),
      });
      // The service port stays first: callers and the generated network policies use it.
      expect(container.ports?.[0].name).not.toBe('metrics');
    });

    it('are behind no Service, so neither the Ingress nor a caller routes to them', () => {
      const service = ofKind<{ ports: { port: number; targetPort: string | number }[] }>(
        objects,
        'Service',
      ).find((s) => s.metadata.name === app);
      for (const servicePort of service?.spec.ports ?? []) {
        expect([servicePort.port, servicePort.targetPort]).not.toContain(port);
        expect(servicePort.targetPort).not.toBe('metrics');
      }
    });
  });

  it('gives the auth-server its users from the auth-server-users Secret, not from the image', () => {
    const spec = podSpec(deployments.find((d) => d.metadata.name === 'auth-server') as KubeObject);
    const [container] = spec.containers as (Container & {
      volumeMounts?: { name: string; mountPath: string }[];
    })[];
    const usersFile = container.env?.find((variable) => variable.name === 'USERS_FILE')?.value;
    const mount = container.volumeMounts?.find((m) => usersFile?.startsWith(`${m.mountPath}/`));
    expect(spec.volumes?.find((volume) => volume.name === mount?.name)?.secret?.secretName).toBe(
      'auth-server-users',
    );
  });

  it('commits no Secret: certificates come from cert-manager, the rest is created at deploy time', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
  });

  it('gives every app a certificate from the acme CA with its SPIFFE ID', () => {
    const certificates = ofKind<{
      secretName: string;
      uris: string[];
      dnsNames: string[];
      issuerRef: { name: string };
    }>(objects, 'Certificate');
    for (const app of deployableApps()) {
      const certificate = certificates.find((c) => c.metadata.name === app);
      expect(certificate?.spec).toMatchObject({
        secretName: `${app}-tls`,
        uris: [`spiffe://acme.internal/${app}`],
        dnsNames: [app],
        issuerRef: { name: 'acme-ca' },
      });
    }
    const ca = certificates.find((c) => c.metadata.name === 'acme-ca');
    expect(ca?.spec).toMatchObject({ isCA: true, issuerRef: { name: 'acme-selfsigned' } });
  });

  it('scales the gateway with an HPA and keeps it available with a PodDisruptionBudget', () => {
    expect(ofKind(objects, 'HorizontalPodAutoscaler').map((h) => h.metadata.name)).toEqual([
      'gateway',
    ]);
    expect(ofKind(objects, 'PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(['gateway']);
  });

  it('routes the Ingress to the gateway and the auth-server only', () => {
    const [ingress] = ofKind<{
      rules: { http: { paths: { backend: { service: { name: string } } }[] } }[];
    }>(objects, 'Ingress');
    const backends = ingress.spec.rules.flatMap((rule) =>
      rule.http.paths.map((path) => path.backend.service.name),
    );
    expect([...new Set(backends)].sort()).toEqual(PUBLISHED);
  });

  it('names the trusted proxies of every Deployment whose TLS ends at a proxy, never all addresses', () => {
    const behindProxy = deployments
      .flatMap((deployment) => podSpec(deployment).containers)
      .map((container) => new Map((container.env ?? []).map((v) => [v.name, v.value])))
      .filter((env) => env.get('TLS_TERMINATED_BY_PROXY') === 'true');
    expect(behindProxy.length).toBeGreaterThan(0);
    for (const env of behindProxy) {
      const ranges = (env.get('TRUSTED_PROXIES') ?? '').split(',').filter(Boolean);
      expect(ranges.length).toBeGreaterThan(0);
      for (const range of ranges) {
        expect(range).toMatch(/^[\d.]+\/([1-9]|[12]\d|3[0-2])$|^[\da-f:]+\/\d+$/);
      }
    }
  });

  describe('network policies', () => {
    const policies = new NetworkPolicies(objects);
    const namespaceLabels = { 'kubernetes.io/metadata.name': 'acme' };
    const pods: Endpoint[] = deployments.map((deployment) => ({
      name: deployment.metadata.name,
      namespace: 'acme',
      namespaceLabels,
      labels: podTemplate(deployment)?.metadata?.labels ?? {},
      ports: podSpec(deployment).containers.flatMap((c) =>
        (c.ports ?? []).map((p) => p.containerPort),
      ),
    }));
    const outside = (
      namespace: string,
      labels: Record<string, string> = {},
      ports: number[] = [],
    ): Endpoint => ({
      name: namespace,
      namespace,
      namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
      labels,
      ports,
    });
    const edges = (from: readonly Endpoint[], to: readonly Endpoint[]) =>
      from.flatMap((source) =>
        to.flatMap((target) =>
          target.ports
            .filter((port) => source !== target && policies.allows(source, target, port))
            .map((port) => `${source.name} -> ${target.name}:${port}`),
        ),
      );

    it('deny by default, then allow only the known paths, everyone to the auth-server, and each generated service from its callers', () => {
      const allowed = edges(pods, pods);
      const toAuthServer = [
        ...pods
          .filter((pod) => pod.name !== 'auth-server')
          .map((pod) => `${pod.name} -> auth-server:3001`),
        ...TOKEN_CLIENTS.map((client) => `${client} -> auth-server:${MTLS_PORT}`),
      ];
      const generated = allowed.filter(
        (edge) => !KNOWN_EDGES.includes(edge) && !toAuthServer.includes(edge),
      );
      expect(allowed).toEqual(expect.arrayContaining([...KNOWN_EDGES, ...toAuthServer]));
      for (const app of deployableApps().filter((name) => !KNOWN_APPS.includes(name))) {
        expect(
          generated.some((edge) =>
            edge.endsWith(` -> ${app}:${pods.find((p) => p.name === app)?.ports[0]}`),
          ),
        ).toBe(true);
      }
      // Anything else must lead into a generated service: none of the starter's services gains a caller.
      expect(
        generated.filter((edge) => KNOWN_APPS.some((app) => edge.includes(` -> ${app}:`))),
      ).toEqual([]);
    });

    it("lets only the services with an OAuth client reach the auth-server's mutual-TLS token endpoint", () => {
      const authServer = pods.find((pod) => pod.name === 'auth-server') as Endpoint;
      const callers = [
        ...pods,
        outside('ingress-nginx'),
        outside(PROMETHEUS.namespace, PROMETHEUS.labels),
      ];
      expect(
        callers
          .filter((pod) => policies.allows(pod, authServer, MTLS_PORT))
          .map((pod) => pod.name)
          .sort(),
      ).toEqual(TOKEN_CLIENTS);
    });

    it('lets the ingress controller reach the gateway and the auth-server only', () => {
      expect(edges([outside('ingress-nginx')], pods).sort()).toEqual([
        'ingress-nginx -> auth-server:3001',
        'ingress-nginx -> gateway:3000',
      ]);
      expect(edges([outside('elsewhere')], pods)).toEqual([]);
    });

    it('lets only Prometheus, in the monitoring namespace, reach the metrics ports, and nothing else', () => {
      const metricsPorts = (pod: Endpoint) => {
        const deployment = deployments.find((d) => d.metadata.name === pod.name) as KubeObject;
        return podSpec(deployment)
          .containers.flatMap((c) => c.ports ?? [])
          .filter((p) => p.name === 'metrics')
          .map((p) => p.containerPort);
      };
      const prometheus = outside(PROMETHEUS.namespace, PROMETHEUS.labels);
      const expected = pods.flatMap((pod) =>
        metricsPorts(pod).map((port) => `monitoring -> ${pod.name}:${port}`),
      );
      expect(expected).toHaveLength(WITH_METRICS().length);
      expect(edges([prometheus], pods).sort()).toEqual(expected.sort());
      // Another pod of the monitoring namespace, Prometheus-labelled pods elsewhere, the
      // ingress controller and our own pods reach no metrics port.
      const strangers = [
        outside(PROMETHEUS.namespace, { 'app.kubernetes.io/name': 'grafana' }),
        outside('elsewhere', PROMETHEUS.labels),
        outside('ingress-nginx', PROMETHEUS.labels),
        { ...pods[0], labels: { ...pods[0].labels, ...PROMETHEUS.labels } },
      ];
      const metricsEdges = edges([...strangers, ...pods], pods).filter((edge) =>
        pods.some((pod) =>
          metricsPorts(pod).some((port) => edge.endsWith(` -> ${pod.name}:${port}`)),
        ),
      );
      expect(metricsEdges).toEqual([]);
    });

    it('lets every pod resolve names, and nothing else leave the namespace but database, Redis and issuer traffic', () => {
      const dns = outside('kube-system', { 'k8s-app': 'kube-dns' }, [53]);
      expect(edges(pods, [dns])).toHaveLength(pods.length);
      const anywhere = outside('elsewhere', {}, [443, 5432, 6379, 8080]);
      const leaving = edges(pods, [anywhere]);
      expect(leaving.filter((edge) => !/ -> elsewhere:(5432|6379)$/.test(edge))).toEqual([]);
      expect(leaving.filter((edge) => edge.endsWith(':6379')).sort()).toEqual([
        'auth-server -> elsewhere:6379',
        'gateway -> elsewhere:6379',
      ]);
    });

    it('lets every pod send traces to the OpenTelemetry Collector in monitoring, and to no other pod there', () => {
      const collectorLabels = { 'app.kubernetes.io/name': 'opentelemetry-collector' };
      const collector = outside('monitoring', collectorLabels, [4318, 4317]);
      expect(edges(pods, [collector]).sort()).toEqual(
        pods.map((pod) => `${pod.name} -> monitoring:4318`).sort(),
      );
      const strangers = [
        outside('monitoring', { 'app.kubernetes.io/name': 'grafana' }, [4318]),
        outside('elsewhere', collectorLabels, [4318]),
      ];
      expect(edges(pods, strangers)).toEqual([]);
    });
  });
});

describe('the overlays', () => {
  const platform = (overlay: string) =>
    (
      render(overlay).find(
        (object) => object.kind === 'ConfigMap' && object.metadata.name === 'acme-platform',
      ) as KubeObject & { data: Record<string, string> }
    ).data;

  it('keep app-level mutual TLS on in dev and prod', () => {
    expect(platform('dev')['TRANSPORT_SECURITY']).toBe('tls');
    expect(platform('prod')['TRANSPORT_SECURITY']).toBe('tls');
  });

  describe.each(['dev', 'prod'])(
    "%s: the auth-server's token endpoint over mutual TLS, as in compose",
    (overlay) => {
      const objects = render(overlay);
      const deployment = ofKind(objects, 'Deployment').find(
        (d) => d.metadata.name === 'auth-server',
      ) as KubeObject;
      const spec = podSpec(deployment);
      const [container] = spec.containers as (Container & {
        volumeMounts?: { name: string; mountPath: string }[];
      })[];
      const env = new Map((container.env ?? []).map((v) => [v.name, v.value ?? v.valueFrom]));
      const mtlsUrl = env.get('MTLS_URL') as string;

      it('listens on MTLS_PORT at the MTLS_URL that compose publishes, on a named port and a Service port', () => {
        const composed = loadCompose(join(WORKSPACE, 'docker-compose.yml')).model.services[
          'auth-server'
        ].environment as Record<string, string>;
        expect(env.get('MTLS_PORT')).toBe(String(MTLS_PORT));
        expect(env.get('MTLS_PORT')).toBe(composed['MTLS_PORT']);
        expect(mtlsUrl).toBe(composed['MTLS_URL']);
        expect(container.ports).toContainEqual({ name: 'mtls', containerPort: MTLS_PORT });
        const service = ofKind<{ ports: { name: string; port: number; targetPort: string }[] }>(
          objects,
          'Service',
        ).find((s) => s.metadata.name === 'auth-server');
        expect(service?.spec.ports).toContainEqual({
          name: 'mtls',
          port: Number(new URL(mtlsUrl).port),
          targetPort: 'mtls',
        });
        expect(new URL(mtlsUrl).hostname).toBe(service?.metadata.name);
      });

      it("reads its certificate, for MTLS_URL's host, and the CA from cert-manager's Secret", () => {
        const certificate = ofKind<{
          secretName: string;
          dnsNames: string[];
          usages: string[];
          issuerRef: { name: string };
        }>(objects, 'Certificate').find((c) => c.metadata.name === 'auth-server');
        expect(certificate?.spec).toMatchObject({
          dnsNames: [new URL(mtlsUrl).hostname],
          usages: expect.arrayContaining(['server auth']) as string[],
          issuerRef: { name: 'acme-ca' },
        });
        const mount = container.volumeMounts?.find(
          (m) =>
            spec.volumes?.find((v) => v.name === m.name)?.secret?.secretName ===
            certificate?.spec.secretName,
        );
        expect(mount).toBeDefined();
        for (const [key, file] of [
          ['TLS_CA_FILE', 'ca.crt'],
          ['TLS_CERT_FILE', 'tls.crt'],
          ['TLS_KEY_FILE', 'tls.key'],
        ]) {
          expect(env.get(key)).toBe(`${mount?.mountPath}/${file}`);
        }
        // The SPIFFE IDs it checks each client's certificate against are of the platform's domain.
        expect(env.get('TRUST_DOMAIN')).toEqual({
          configMapKeyRef: { name: 'acme-platform', key: 'TRUST_DOMAIN' },
        });
        const composed = loadCompose(join(WORKSPACE, 'docker-compose.yml')).model.services[
          'auth-server'
        ].environment as Record<string, string>;
        expect(platform(overlay)['TRUST_DOMAIN']).toBe(composed['TRUST_DOMAIN']);
      });

      it('so every hop requires certificate-bound service tokens', () => {
        expect(platform(overlay)['AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS']).toBe('true');
      });
    },
  );

  describe('mesh', () => {
    const objects = render('mesh');

    it('binds no service token: the sidecars end mutual TLS, so no hop could check the binding', () => {
      const authServer = podSpec(
        ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'auth-server') as KubeObject,
      ).containers[0];
      expect(authServer.env).toContainEqual({ name: 'MTLS_PORT', value: '0' });
      expect(platform('mesh')['AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS']).toBe('false');
    });

    it('switches app-level TLS off and lets Istio require mutual TLS for every workload', () => {
      expect(platform('mesh')['TRANSPORT_SECURITY']).toBe('mesh');
      const peerAuthentications = ofKind(objects, 'PeerAuthentication');
      expect(peerAuthentications.find((p) => p.metadata.name === 'default')?.spec).toEqual({
        mtls: { mode: 'STRICT' },
      });
      expect(
        objects.find((object) => object.kind === 'Namespace')?.metadata.labels?.['istio-injection'],
      ).toBe('enabled');
    });

    it('takes plaintext only on the public ports, from the ingress controller outside the mesh, and on the metrics ports, from Prometheus', () => {
      const exceptions = ofKind<{
        selector?: { matchLabels: Record<string, string> };
        mtls: { mode: string };
        portLevelMtls?: Record<string, { mode: string }>;
      }>(objects, 'PeerAuthentication')
        .filter((p) => p.metadata.name !== 'default')
        .map((p) => ({
          app: p.spec.selector?.matchLabels['app.kubernetes.io/name'],
          mode: p.spec.mtls.mode,
          permissive: Object.keys(p.spec.portLevelMtls ?? {}),
        }));
      const expected = deployableApps().map((app) => {
        const [container] = podSpec(
          ofKind(objects, 'Deployment').find((d) => d.metadata.name === app) as KubeObject,
        ).containers;
        const ports = container.ports ?? [];
        return {
          app,
          mode: 'STRICT',
          permissive: [
            ...(PUBLISHED.includes(app) ? [ports[0].containerPort] : []),
            ...ports.filter((p) => p.name === 'metrics').map((p) => p.containerPort),
          ].map(String),
        };
      });
      expect(exceptions.sort((a, b) => String(a.app).localeCompare(String(b.app)))).toEqual(
        expected,
      );
      expect(expected.filter(({ app }) => app in METRICS_PORTS)).toEqual([
        { app: 'auth-server', mode: 'STRICT', permissive: ['3001', '9403'] },
        { app: 'gateway', mode: 'STRICT', permissive: ['3000', '9400'] },
        { app: 'order', mode: 'STRICT', permissive: ['9401'] },
        { app: 'payment', mode: 'STRICT', permissive: ['9402'] },
      ]);
      // Under the mesh too, the NetworkPolicies admit only Prometheus to those ports (above).
    });

    it('admits to each TCP service exactly the callers its NetworkPolicy admits, named by their service accounts', () => {
      const policies = new NetworkPolicies(objects);
      const deployments = ofKind(objects, 'Deployment');
      // The broker too (a StatefulSet): it has no metrics port, and takes no plaintext.
      const workloads = [...deployments, ...ofKind(objects, 'StatefulSet')];
      const pods: Endpoint[] = workloads.map((deployment) => ({
        name: deployment.metadata.name,
        namespace: 'acme',
        namespaceLabels: { 'kubernetes.io/metadata.name': 'acme' },
        labels: podTemplate(deployment)?.metadata?.labels ?? {},
        ports: podSpec(deployment).containers.flatMap((c) =>
          (c.ports ?? []).map((p) => p.containerPort),
        ),
      }));
      const internal = pods.filter((pod) => !PUBLISHED.includes(pod.name));
      const byNetworkPolicy = pods
        .flatMap((source) =>
          internal.flatMap((target) =>
            target.ports
              .filter((port) => source !== target && policies.allows(source, target, port))
              .map((port) => `${source.name} -> ${target.name}:${port}`),
          ),
        )
        .sort();

      const authorizationPolicies = ofKind<{
        selector: { matchLabels: Record<string, string> };
        action: string;
        rules: {
          from?: { source: { principals: string[] } }[];
          to: { operation: { ports: string[] } }[];
        }[];
      }>(objects, 'AuthorizationPolicy');
      // A rule without `from` admits anyone the NetworkPolicy lets through: only the metrics
      // port, which it lets Prometheus (outside the mesh, so without an identity) alone reach.
      const toAnyone = authorizationPolicies.flatMap((policy) =>
        policy.spec.rules
          .filter((rule) => !rule.from)
          .flatMap((rule) =>
            rule.to.flatMap(({ operation }) =>
              operation.ports.map(
                (port) => `${policy.spec.selector.matchLabels['app.kubernetes.io/name']}:${port}`,
              ),
            ),
          ),
      );
      const metricsPortOf = (pod: Endpoint) =>
        podSpec(workloads.find((d) => d.metadata.name === pod.name) as KubeObject)
          .containers.flatMap((c) => c.ports ?? [])
          .find((p) => p.name === 'metrics')?.containerPort;
      expect(toAnyone.sort()).toEqual(
        internal
          .filter((pod) => metricsPortOf(pod))
          .map((pod) => `${pod.name}:${metricsPortOf(pod)}`)
          .sort(),
      );
      expect(toAnyone).toEqual(expect.arrayContaining(['order:9401', 'payment:9402']));

      const byMesh = authorizationPolicies
        .flatMap((policy) => {
          expect(policy.spec.action).toBe('ALLOW');
          const target = policy.spec.selector.matchLabels['app.kubernetes.io/name'];
          return policy.spec.rules.flatMap((rule) =>
            (rule.from ?? []).flatMap(({ source }) =>
              source.principals.flatMap((principal) =>
                rule.to.flatMap(({ operation }) =>
                  operation.ports.map(
                    (port) =>
                      `${principal.replace('cluster.local/ns/acme/sa/', '')} -> ${target}:${port}`,
                  ),
                ),
              ),
            ),
          );
        })
        .sort();

      expect(internal.map((pod) => pod.name).sort()).toEqual(
        [...deployableApps().filter((app) => !PUBLISHED.includes(app)), 'nats'].sort(),
      );
      expect(byMesh).toEqual(byNetworkPolicy);
      expect(byMesh).toEqual(
        expect.arrayContaining([
          'gateway -> order:4001',
          'payment -> order:4001',
          'order -> payment:4002',
          'order -> nats:4222',
          'payment -> nats:4222',
        ]),
      );
    });
  });

  it.each(['dev', 'prod', 'mesh'])(
    '%s: DPoP proofs name the API as the Ingress serves the gateway',
    (overlay) => {
      const ingress = render(overlay).find((object) => object.kind === 'Ingress') as KubeObject & {
        spec: {
          rules: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[];
        };
      };
      const api = ingress.spec.rules.find((rule) =>
        rule.http.paths.some((path) => path.backend.service.name === 'gateway'),
      );
      // Required in production while the gateway requires DPoP (its default), or it cannot start.
      expect(platform(overlay)['AUTH_DPOP_PUBLIC_ORIGIN']).toBe(`https://${api?.host}`);
    },
  );

  it('prod: the issuer at its public URL and a public certificate for the Ingress', () => {
    expect(platform('prod')['AUTH_ISSUER']).toBe('https://auth.acme.example');
    const ingress = render('prod').find((object) => object.kind === 'Ingress') as KubeObject;
    expect(ingress.metadata.annotations).toEqual({
      'cert-manager.io/cluster-issuer': 'letsencrypt',
    });
  });
});
