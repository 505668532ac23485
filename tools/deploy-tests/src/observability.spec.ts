import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { loadCompose } from './lib/compose';
import type { ComposeService } from './lib/compose';
import { exportedMetrics, metricModules, seriesNames } from './lib/exported-metrics';
import type { ExportedMetric } from './lib/exported-metrics';
import { podTemplate, renderKustomization } from './lib/kustomize';
import { parsePromql } from './lib/promql';
import { relabel } from './lib/relabel';
import type { RelabelConfig } from './lib/relabel';
import { deployableApps, WORKSPACE } from './lib/workspace';

const OBSERVABILITY = join(WORKSPACE, 'deploy/observability');
const PROFILE = 'observability';
const TOOLS = ['prometheus', 'grafana', 'jaeger'];
/** Series Prometheus itself makes: the scrape's health and the alerts' state. */
const PROMETHEUS_SERIES: Record<string, string[]> = {
  up: [],
  ALERTS: ['alertname', 'alertstate', 'severity'],
};
/** Labels every scraped series gets from its target (prometheus.yml). */
const TARGET_LABELS = ['app', 'job', 'instance'];
/** Grafana's interval variables, replaced by a duration before parsing. */
const GRAFANA_INTERVALS = /\$__(rate_interval|interval|range)\b/g;

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; legendFormat?: string; datasource?: { uid: string } }[];
}
interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
}

const readYaml = <T>(path: string) => parse(readFileSync(join(OBSERVABILITY, path), 'utf8')) as T;
const environment = (service: ComposeService) =>
  (Array.isArray(service.environment) ? {} : (service.environment ?? {})) as Record<string, string>;
const networksOf = (service: ComposeService) =>
  Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});

const prometheus = readYaml<{ rule_files: string[]; scrape_configs: ScrapeConfig[] }>(
  'prometheus/prometheus.yml',
);
const rules = readYaml<{ groups: { name: string; rules: AlertRule[] }[] }>(
  'prometheus/alerts.yml',
).groups.flatMap((group) => group.rules);
const dashboardFile = 'grafana/dashboards/security-overview.json';
const dashboard = JSON.parse(readFileSync(join(OBSERVABILITY, dashboardFile), 'utf8')) as {
  uid: string;
  panels: Panel[];
};
const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({
    panel: panel.title,
    expr: target.expr.replace(GRAFANA_INTERVALS, '5m'),
    legend: target.legendFormat ?? '',
  })),
);
/** Every expression: the alert rules', then the dashboard's. */
const expressions = [
  ...rules.map((rule) => ({ source: `alert ${rule.alert}`, expr: rule.expr })),
  ...queries.map((query) => ({ source: `panel "${query.panel}"`, expr: query.expr })),
];

/**
 * The metrics table of docs/observability.md: each row's type, labels, and the values it
 * documents (every backticked word of its last column).
 */
const documented = new Map(
  readFileSync(join(WORKSPACE, 'docs/observability.md'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `acme_'))
    .map((line) => {
      const [name, type, labels, text] = line
        .split('|')
        .slice(1, 5)
        .map((cell) => cell.trim());
      const words = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
      return [words(name)[0], { type, labels: words(labels), values: words(text) }] as const;
    }),
);

describe('deploy/observability', () => {
  let metrics: ExportedMetric[];
  /** Series name -> the metric it belongs to (a histogram's `_bucket` -> the histogram). */
  let series: Map<string, ExportedMetric>;

  beforeAll(async () => {
    metrics = await exportedMetrics();
    series = new Map(
      metrics.flatMap((metric) => seriesNames(metric).map((name) => [name, metric] as const)),
    );
  });

  /** The labels an expression may name: those of the series it selects, and the target's. */
  const labelsOf = (metricNames: string[]) =>
    new Set([
      ...TARGET_LABELS,
      ...metricNames.flatMap((name) => [
        ...(series.get(name)?.labels ?? PROMETHEUS_SERIES[name] ?? []),
        ...(name.endsWith('_bucket') ? ['le'] : []),
      ]),
    ]);

  it("reads the services' metrics from their real registry, with a counter's _total suffix", () => {
    expect(metricModules().map((file) => relative(WORKSPACE, file))).toEqual(
      expect.arrayContaining([
        'apps/auth-server/src/auth-server.metrics.ts',
        'libs/auth/src/lib/metrics/auth.metrics.ts',
        'libs/bootstrap/src/lib/call.metrics.ts',
        'libs/edge/src/lib/rate-limit/rate-limit.metrics.ts',
        'libs/transport/src/lib/transport.metrics.ts',
      ]),
    );
    const acme = metrics.filter((metric) => metric.name.startsWith('acme_'));
    expect(acme.map((metric) => metric.name)).toContain('acme_auth_denials_total');
    expect(acme.find((m) => m.name === 'acme_http_request_duration_seconds')?.type).toBe(
      'histogram',
    );
    for (const metric of acme) {
      expect({ name: metric.name, counter: metric.name.endsWith('_total') }).toEqual({
        name: metric.name,
        counter: metric.type === 'counter',
      });
    }
  });

  it('are the metrics docs/observability.md lists, with their types and labels', () => {
    const acme = metrics.filter((metric) => metric.name.startsWith('acme_'));
    expect(
      Object.fromEntries(acme.map(({ name, type, labels }) => [name, { type, labels }])),
    ).toEqual(
      Object.fromEntries(
        [...documented].map(([name, { type, labels }]) => [name, { type, labels }]),
      ),
    );
  });

  describe.each(expressions)('$source', ({ expr }) => {
    const parsed = parsePromql(expr);

    it('parses as PromQL', () => {
      expect(expr).not.toContain('$');
      expect(parsed.errors).toEqual([]);
    });

    it('selects only series the services export (a histogram by its _bucket, _count or _sum), with their labels', () => {
      expect(parsed.metrics.length).toBeGreaterThan(0);
      for (const name of parsed.metrics) {
        expect({ name, exported: series.has(name) || name in PROMETHEUS_SERIES }).toEqual({
          name,
          exported: true,
        });
      }
      const known = labelsOf(parsed.metrics);
      expect(parsed.labels.filter((label) => !known.has(label))).toEqual([]);
    });

    it('matches label values the metrics take, as docs/observability.md lists them', () => {
      // Values of the metrics' own labels (not the target's), where the doc lists them.
      const values = parsed.metrics.flatMap(
        (name) => documented.get(series.get(name)?.name ?? '')?.values ?? [],
      );
      for (const { label, op, value } of parsed.matchers) {
        if (TARGET_LABELS.includes(label) || values.length === 0) continue;
        expect(op === '=' || (op === '=~' && /^[\w|]+$/.test(value))).toBe(true);
        for (const each of value.split('|')) {
          expect({ label, value: each, documented: values.includes(each) }).toEqual({
            label,
            value: each,
            documented: true,
          });
        }
      }
    });
  });

  describe('alerts.yml', () => {
    it.each(rules.map((rule) => [rule.alert, rule]))(
      '%s waits a while, has a severity, a summary and a description, naming labels its result has',
      (_name, rule) => {
        expect(rule.alert).toMatch(/^Acme[A-Z][A-Za-z]+$/);
        expect(rule.for).toMatch(/^[1-9]\d*[smh]$/);
        expect(['warning', 'critical']).toContain(rule.labels?.severity);
        expect(Object.keys(rule.annotations ?? {}).sort()).toEqual(['description', 'summary']);
        const parsed = parsePromql(rule.expr);
        const result = new Set(parsed.resultLabels ?? labelsOf(parsed.metrics));
        const named = Object.values(rule.annotations ?? {}).flatMap((text) =>
          [...text.matchAll(/\$labels\.(\w+)/g)].map((match) => match[1]),
        );
        expect(named.filter((label) => !result.has(label))).toEqual([]);
      },
    );

    it('watch denials, invalid and forged tokens, JWKS, circuits, rate limits, TLS, scrapes, sign-ins, token reuse and stolen client secrets', () => {
      const watched = new Set(rules.flatMap((rule) => parsePromql(rule.expr).metrics));
      expect([...watched].sort()).toEqual(
        [
          'acme_auth_denials_total',
          'acme_auth_server_certificate_mismatch_total',
          'acme_auth_server_logins_total',
          'acme_auth_server_token_reuse_total',
          'acme_circuit_breaker_state',
          'acme_jwks_refreshes_total',
          'acme_rate_limit_rejections_total',
          'acme_tls_handshake_failures_total',
          'up',
        ].sort(),
      );
      expect(rules.map((rule) => rule.alert)).toHaveLength(new Set(rules.map((r) => r.alert)).size);
    });

    it('select scrape jobs that prometheus.yml defines', () => {
      const jobs = prometheus.scrape_configs.map((config) => config.job_name);
      const selected = expressions.flatMap(({ expr }) =>
        parsePromql(expr)
          .matchers.filter((matcher) => matcher.label === 'job')
          .map((matcher) => matcher.value),
      );
      expect(selected.length).toBeGreaterThan(0);
      for (const job of selected) expect(jobs).toContain(job);
    });
  });

  describe(dashboardFile, () => {
    it('shows every acme metric the services export', () => {
      const shown = new Set(
        queries.flatMap(({ expr }) => parsePromql(expr).metrics.map((name) => series.get(name))),
      );
      const acme = metrics.filter((metric) => metric.name.startsWith('acme_'));
      expect(acme.filter((metric) => !shown.has(metric)).map((metric) => metric.name)).toEqual([]);
    });

    it("shows latency quantiles p50, p95 and p99 per route and per message pattern, from the histograms' buckets", () => {
      const quantiles = queries
        .map(({ expr }) => parsePromql(expr))
        .filter((parsed) => parsed.metrics.some((name) => name.endsWith('_bucket')));
      for (const [metric, label] of [
        ['acme_http_request_duration_seconds_bucket', 'route'],
        ['acme_rpc_message_duration_seconds_bucket', 'pattern'],
      ]) {
        const of = queries.filter(({ expr }) => expr.includes(metric));
        expect(of.map(({ expr }) => /histogram_quantile\((0\.\d+),/.exec(expr)?.[1])).toEqual([
          '0.5',
          '0.95',
          '0.99',
        ]);
        for (const { expr } of of) expect(parsePromql(expr).labels).toContain(label);
      }
      expect(quantiles).toHaveLength(6);
    });

    it('names in its legends only labels the query keeps', () => {
      for (const query of queries) {
        const parsed = parsePromql(query.expr);
        const kept = new Set(parsed.resultLabels ?? labelsOf(parsed.metrics));
        const named = [...query.legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1]);
        expect({ panel: query.panel, unknown: named.filter((label) => !kept.has(label)) }).toEqual({
          panel: query.panel,
          unknown: [],
        });
      }
    });

    it('queries the provisioned Prometheus data source by its uid', () => {
      const sources = readYaml<{ datasources: { uid: string; type: string }[] }>(
        'grafana/provisioning/datasources/datasources.yml',
      ).datasources;
      const prometheusUid = sources.find((source) => source.type === 'prometheus')?.uid;
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: prometheusUid });
        for (const target of panel.targets ?? []) {
          expect(target.datasource?.uid).toBe(prometheusUid);
        }
      }
    });
  });

  describe('prometheus/kubernetes-pods.yml, the scrape job for a Prometheus in the cluster', () => {
    const [job] = readYaml<{
      scrape_configs: (ScrapeConfig & {
        kubernetes_sd_configs: { role: string; namespaces: { names: string[] } }[];
        relabel_configs: RelabelConfig[];
      })[];
    }>('prometheus/kubernetes-pods.yml').scrape_configs;

    it("is the compose job's name, over the pods of the acme namespace", () => {
      expect(job.job_name).toBe(prometheus.scrape_configs[0].job_name);
      expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['acme'] } }]);
    });

    it('turns each Deployment of k8s/overlays/prod into one target on its metrics port, labelled with its app as in compose', () => {
      const deployments = renderKustomization(join(WORKSPACE, 'k8s/overlays/prod')).filter(
        (object) => object.kind === 'Deployment',
      );
      const ip = '10.244.1.7';
      // What Prometheus's pod discovery gives: a target per container port.
      const discovered = deployments.flatMap((deployment) => {
        const template = podTemplate(deployment);
        const meta = (prefix: string, values: Record<string, string> = {}) =>
          Object.fromEntries(
            Object.entries(values).map(([name, value]) => [
              `${prefix}${name.replace(/[^a-zA-Z0-9_]/g, '_')}`,
              value,
            ]),
          );
        const containers = (template?.spec?.containers ?? []) as {
          ports?: { containerPort: number }[];
        }[];
        return containers.flatMap((container) =>
          (container.ports ?? []).map((port) => ({
            __address__: `${ip}:${port.containerPort}`,
            __metrics_path__: '/metrics',
            __meta_kubernetes_pod_name: `${deployment.metadata.name}-6d4cf56db6-x7k2p`,
            ...meta('__meta_kubernetes_pod_label_', template?.metadata?.labels),
            ...meta('__meta_kubernetes_pod_annotation_', template?.metadata?.annotations),
          })),
        );
      });
      const targets = new Map(
        discovered
          .map((labels) => relabel(labels, job.relabel_configs))
          .filter((labels) => labels !== undefined)
          .map((labels) => [JSON.stringify(labels), labels]),
      );
      expect([...targets.values()].sort((a, b) => a.app.localeCompare(b.app))).toEqual(
        deployableApps().map((app) => {
          const env = environment(
            loadCompose(join(WORKSPACE, 'docker-compose.yml')).model.services[app],
          );
          return {
            __address__: `${ip}:${env['METRICS_PORT']}`,
            __metrics_path__: '/metrics',
            app,
            pod: `${app}-6d4cf56db6-x7k2p`,
          };
        }),
      );
    });
  });

  describe('the compose profile', () => {
    const { model } = loadCompose(join(WORKSPACE, 'docker-compose.yml'));
    const services = Object.entries(model.services);
    const tool = (name: string) => model.services[name];

    it('runs Prometheus, Grafana and Jaeger only when asked for, from images pinned to a version', () => {
      for (const name of TOOLS) {
        expect(tool(name).profiles).toEqual([PROFILE]);
        expect(tool(name).image).toMatch(/:v?\d+\.\d+\.\d+$/);
      }
      // The system starts without them: none of its services waits for one.
      for (const [name, service] of services) {
        if (TOOLS.includes(name)) continue;
        expect(service['profiles']).toBeUndefined();
        const dependencies = Array.isArray(service.depends_on)
          ? service.depends_on
          : Object.keys(service.depends_on ?? {});
        expect(dependencies.filter((dependency) => TOOLS.includes(dependency))).toEqual([]);
      }
    });

    it("scrapes every service's metrics port, at the address it binds on the internal network", () => {
      const [job] = prometheus.scrape_configs;
      expect(prometheus.scrape_configs).toHaveLength(1);
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
      const targets = job.static_configs.flatMap((config) =>
        config.targets.map((target) => ({ target, app: config.labels?.['app'] })),
      );
      const expected = deployableApps().map((app) => {
        const env = environment(model.services[app]);
        const host = env['METRICS_HOST'] === '0.0.0.0' ? app : env['METRICS_HOST'];
        return { target: `${host}:${env['METRICS_PORT']}`, app };
      });
      expect(targets.sort((a, b) => a.target.localeCompare(b.target))).toEqual(
        expected.sort((a, b) => a.target.localeCompare(b.target)),
      );
      expect(targets.map(({ target }) => target)).toEqual(
        expect.arrayContaining([
          'gateway-metrics:9400',
          'order:9401',
          'payment:9402',
          'auth-server-metrics:9403',
        ]),
      );
      expect(networksOf(tool('prometheus'))).toContain('internal');
      expect(prometheus.rule_files).toEqual(['alerts.yml']);
    });

    it('mounts the configuration and dashboards of deploy/observability, read-only', () => {
      const mounts = (name: string) =>
        (tool(name)['volumes'] as string[])
          .filter((volume) => volume.startsWith('../'))
          .map((volume) => {
            const [from, to, mode] = volume.split(':');
            return { from: relative(WORKSPACE, join(WORKSPACE, 'deploy/compose', from)), to, mode };
          });
      expect(mounts('prometheus')).toEqual([
        { from: 'deploy/observability/prometheus', to: '/etc/prometheus', mode: 'ro' },
      ]);
      const provider = readYaml<{ providers: { options: { path: string } }[] }>(
        'grafana/provisioning/dashboards/dashboards.yml',
      ).providers[0];
      expect(mounts('grafana')).toEqual([
        {
          from: 'deploy/observability/grafana/provisioning',
          to: '/etc/grafana/provisioning',
          mode: 'ro',
        },
        {
          from: 'deploy/observability/grafana/dashboards',
          to: provider.options.path,
          mode: 'ro',
        },
      ]);
      for (const { from } of [...mounts('prometheus'), ...mounts('grafana')]) {
        expect(existsSync(join(WORKSPACE, from))).toBe(true);
      }
    });

    it('gives Grafana the Prometheus and Jaeger of the profile, a generated admin password, and no anonymous access', () => {
      const sources = readYaml<{ datasources: { type: string; url: string }[] }>(
        'grafana/provisioning/datasources/datasources.yml',
      ).datasources;
      expect(sources.map(({ type, url }) => ({ type, url }))).toEqual([
        { type: 'prometheus', url: 'http://prometheus:9090' },
        { type: 'jaeger', url: 'http://jaeger:16686' },
      ]);
      const env = environment(tool('grafana'));
      expect(env['GF_SECURITY_ADMIN_PASSWORD']).toBeUndefined();
      expect(env['GF_SECURITY_ADMIN_PASSWORD__FILE']).toBe('/run/secrets/grafana_admin_password');
      expect(tool('grafana').secrets).toEqual(['grafana_admin_password']);
      expect(relative(WORKSPACE, model.secrets['grafana_admin_password'].file as string)).toBe(
        '.dev/compose/grafana-admin-password',
      );
      expect(readFileSync(join(WORKSPACE, 'deploy/compose/prepare.mjs'), 'utf8')).toContain(
        "writeOnce(join(OUT, 'grafana-admin-password'), secret)",
      );
      expect(env['GF_AUTH_ANONYMOUS_ENABLED']).toBe('false');
      expect(env['GF_USERS_ALLOW_SIGN_UP']).toBe('false');
      expect(tool('grafana').ports).toEqual(['127.0.0.1:3030:3000']);
    });

    it('keeps Grafana off the internal network: it reaches Prometheus and Jaeger only', () => {
      expect(model.networks['telemetry']).toEqual({ internal: true });
      expect(networksOf(tool('grafana')).sort()).toEqual(['edge', 'telemetry']);
      const onTelemetry = services
        .filter(([, service]) => networksOf(service).includes('telemetry'))
        .map(([name]) => name);
      expect(onTelemetry.sort()).toEqual(['grafana', 'jaeger', 'prometheus']);
    });

    it('passes OTEL_EXPORTER_OTLP_ENDPOINT from the environment to every service, and Jaeger takes OTLP on the internal network', () => {
      for (const app of deployableApps()) {
        expect({
          app,
          endpoint: environment(model.services[app])['OTEL_EXPORTER_OTLP_ENDPOINT'],
        }).toEqual({ app, endpoint: '${OTEL_EXPORTER_OTLP_ENDPOINT:-}' });
      }
      expect(networksOf(tool('jaeger'))).toContain('internal');
      expect(tool('jaeger').image).toMatch(/^jaegertracing\/jaeger:2\./);
    });
  });
});
