import { freePort, isListening, writeDevPki } from '@acme/transport/testing';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { loadCompose } from './lib/compose';
import type { ComposeService } from './lib/compose';
import { podTemplate, renderKustomization } from './lib/kustomize';
import type { KubeObject } from './lib/kustomize';
import { NetworkPolicies } from './lib/network-policy';
import type { Endpoint } from './lib/network-policy';
import { WORKSPACE } from './lib/workspace';

/** The services of EVENT_ROUTES (libs/contracts): the only clients of the broker. */
const BROKER_CLIENTS = ['order', 'payment'];
const BROKER_URL = 'tls://nats:4222';
const CONFIG_DIR = join(WORKSPACE, 'deploy/nats');
const NATS_SERVER = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';
/** The environment nats.conf reads its paths from, as both deployments set it. */
const NATS_ENV = ['NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE', 'NATS_STORE_DIR'];

const deployedFile = (name: string) => readFileSync(join(CONFIG_DIR, name), 'utf8');

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}
const podSpec = (object: KubeObject) => podTemplate(object)?.spec as unknown as PodSpec;
const envOf = (container: Container) =>
  Object.fromEntries((container.env ?? []).map((v) => [v.name, v.value]));

describe('the broker in docker-compose.yml', () => {
  const { model } = loadCompose(join(WORKSPACE, 'docker-compose.yml'));
  const nats = model.services['nats'];
  const environment = (service: ComposeService) => service.environment as Record<string, string>;

  it('runs the official nats image, pinned to a version, with JetStream and TLS from nats.conf', () => {
    expect(nats.image).toMatch(/^nats:\d+\.\d+\.\d+-alpine$/);
    expect(nats['command']).toEqual(['nats-server', '--config', '/etc/nats/nats.conf']);
    expect(Object.keys(environment(nats)).sort()).toEqual([...NATS_ENV].sort());
  });

  it('runs it as a non-root user on a read-only root filesystem, its store on a volume', () => {
    expect(nats.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(nats.read_only).toBe(true);
    const volumes = nats['volumes'] as string[];
    const store = environment(nats)['NATS_STORE_DIR'];
    const data = volumes.find((volume) => volume.startsWith('nats-data:'));
    expect(model.volumes).toHaveProperty('nats-data');
    // The store is in the volume, which is mounted on a folder the image leaves writable by all.
    expect(store.startsWith(`${data?.split(':')[1]}/`)).toBe(true);
  });

  it('publishes no port and sits on the internal network only', () => {
    expect(nats.ports).toBeUndefined();
    expect(nats['expose']).toBeUndefined();
    expect(nats.networks).toEqual(['internal']);
    expect(model.networks['internal']).toEqual({ internal: true });
  });

  it('mounts deploy/nats/nats.conf and the generated authorization.conf beside it, read-only', () => {
    expect(nats['volumes']).toEqual(
      expect.arrayContaining([
        '../nats/nats.conf:/etc/nats/nats.conf:ro',
        '../nats/authorization.conf:/etc/nats/authorization.conf:ro',
      ]),
    );
    expect(deployedFile('nats.conf')).toMatch(/^include \.\/authorization\.conf$/m);
  });

  it('gives it a server certificate from the dev CA and the CA to check clients against', () => {
    const secrets = Object.fromEntries(
      (nats.secrets as string[]).map((secret) => [secret, `/run/secrets/${secret}`]),
    );
    expect(environment(nats)).toMatchObject({
      NATS_TLS_CA_FILE: secrets['ca_crt'],
      NATS_TLS_CERT_FILE: secrets['nats_tls_crt'],
      NATS_TLS_KEY_FILE: secrets['nats_tls_key'],
    });
    expect(relative(WORKSPACE, model.secrets['nats_tls_crt'].file as string)).toBe(
      '.dev/compose/certs/nats.crt',
    );
  });

  it.each(BROKER_CLIENTS)('points %s at it over TLS, once it is healthy', (name) => {
    const service = model.services[name];
    expect(environment(service)['BROKER_URL']).toBe(BROKER_URL);
    expect(environment(service)['BROKER_URL_FILE']).toBeUndefined();
    expect(service.secrets).toEqual(expect.arrayContaining(['ca_crt', `${name}_tls_crt`]));
    expect((service.depends_on as Record<string, unknown>)['nats']).toEqual({
      condition: 'service_healthy',
    });
  });

  it('gives no other service a broker URL', () => {
    const others = Object.entries(model.services)
      .filter(([name]) => !BROKER_CLIENTS.includes(name))
      .filter(([, service]) => JSON.stringify(service.environment ?? {}).includes('BROKER_URL'));
    expect(others).toEqual([]);
  });
});

describe.each(['dev', 'prod', 'mesh'])('the broker in k8s/overlays/%s', (overlay) => {
  const objects = renderKustomization(join(WORKSPACE, 'k8s/overlays', overlay));
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name) as KubeObject | undefined;
  const statefulSet = find('StatefulSet', 'nats') as KubeObject;
  const spec = podSpec(statefulSet);
  const [container] = spec.containers;

  it('runs one nats StatefulSet from the official image, pinned, with its store on a volume claim', () => {
    expect(spec.containers).toHaveLength(1);
    expect(container.image).toMatch(/^nats:\d+\.\d+\.\d+-alpine$/);
    expect(container.command).toEqual(['nats-server', '--config', '/etc/nats/nats.conf']);
    const claims = (
      statefulSet['spec'] as { volumeClaimTemplates: { metadata: { name: string } }[] }
    ).volumeClaimTemplates;
    const store = envOf(container)['NATS_STORE_DIR'];
    const mount = container.volumeMounts?.find((m) => m.mountPath === store);
    expect(claims.map((claim) => claim.metadata.name)).toEqual([mount?.name]);
    expect(Object.keys(envOf(container))).toEqual(expect.arrayContaining(NATS_ENV));
  });

  it('runs it as non-root, read-only, without capabilities, its volume writable through fsGroup', () => {
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.serviceAccountName).toBe('nats');
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: expect.any(Number),
      fsGroup: expect.any(Number),
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.securityContext?.['runAsUser']).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.readinessProbe).toBeDefined();
    expect(container.livenessProbe).toBeDefined();
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  it('mounts deploy/nats/nats.conf and the generated authorization.conf, byte for byte', () => {
    const volume = spec.volumes?.find((v) => v.configMap);
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.mountPath).toBe('/etc/nats');
    const configMap = find('ConfigMap', volume?.configMap?.name ?? '') as KubeObject & {
      data: Record<string, string>;
    };
    expect(configMap.data).toEqual({
      'nats.conf': deployedFile('nats.conf'),
      'authorization.conf': deployedFile('authorization.conf'),
    });
  });

  it('gives it a server certificate for the name `nats` from the acme CA', () => {
    const tls = spec.volumes?.find((v) => v.secret)?.secret?.secretName;
    const certificate = objects.find(
      (o) => o.kind === 'Certificate' && (o['spec'] as { secretName: string }).secretName === tls,
    );
    expect(certificate?.['spec']).toMatchObject({
      dnsNames: ['nats'],
      usages: ['digital signature', 'server auth'],
      issuerRef: { name: 'acme-ca', kind: 'Issuer' },
    });
    const mount = container.volumeMounts?.find(
      (m) => m.name === spec.volumes?.find((v) => v.secret)?.name,
    );
    expect(envOf(container)).toMatchObject({
      NATS_TLS_CA_FILE: `${mount?.mountPath}/ca.crt`,
      NATS_TLS_CERT_FILE: `${mount?.mountPath}/tls.crt`,
      NATS_TLS_KEY_FILE: `${mount?.mountPath}/tls.key`,
    });
  });

  it('serves the client port only, declared TCP (NATS speaks first)', () => {
    const services = objects.filter(
      (o) =>
        o.kind === 'Service' &&
        (o['spec'] as { selector: Record<string, string> }).selector['app.kubernetes.io/name'] ===
          'nats',
    );
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['nats', 'nats-headless']);
    for (const service of services) {
      expect((service['spec'] as { ports: unknown[] }).ports).toEqual([
        { name: 'tcp-client', port: 4222, targetPort: 'client', appProtocol: 'tcp' },
      ]);
    }
  });

  it.each(BROKER_CLIENTS)('points %s at it over TLS', (name) => {
    const deployment = find('Deployment', name) as KubeObject;
    expect(envOf(podSpec(deployment).containers[0])['BROKER_URL']).toBe(BROKER_URL);
  });

  describe('network policies', () => {
    const policies = new NetworkPolicies(objects);
    const pod = (object: KubeObject): Endpoint => ({
      name: object.metadata.name,
      namespace: 'acme',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'acme' },
      labels: podTemplate(object)?.metadata?.labels ?? {},
      ports: podSpec(object).containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)),
    });
    const broker = pod(statefulSet);
    const pods = objects.filter((o) => o.kind === 'Deployment').map(pod);
    const outside = (namespace: string, labels: Record<string, string>, ports: number[]) => ({
      name: namespace,
      namespace,
      namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
      labels,
      ports,
    });

    it('let only order and payment reach it, on 4222', () => {
      const strangers = [
        outside('elsewhere', {}, []),
        outside('monitoring', { 'app.kubernetes.io/name': 'prometheus' }, []),
        outside('ingress-nginx', {}, []),
      ];
      const reaching = [...pods, ...strangers].flatMap((source) =>
        [4222, 8222]
          .filter((port) => policies.allows(source, broker, port))
          .map((port) => `${source.name}:${port}`),
      );
      expect(reaching.sort()).toEqual(['order:4222', 'payment:4222']);
    });

    it('let it reach nothing: no pod, no name server, no other namespace', () => {
      const targets = [
        ...pods,
        outside('kube-system', { 'k8s-app': 'kube-dns' }, [53]),
        outside('monitoring', { 'app.kubernetes.io/name': 'opentelemetry-collector' }, [4318]),
        outside('elsewhere', {}, [443, 5432, 6379]),
      ];
      const reached = targets.flatMap((target) =>
        target.ports.filter((port) => policies.allows(broker, target, port)),
      );
      expect(reached).toEqual([]);
      // Under Istio its sidecar fetches its configuration and certificate from istiod, as every sidecar does.
      const istiod = outside('istio-system', { app: 'istiod' }, [15012]);
      expect(policies.allows(broker, istiod, 15012)).toBe(overlay === 'mesh');
    });
  });

  if (overlay === 'mesh') {
    it('mesh: keeps it STRICT and admits order and payment only, by service account', () => {
      expect(
        objects.filter(
          (o) =>
            o.kind === 'PeerAuthentication' &&
            (o['spec'] as { selector?: { matchLabels: Record<string, string> } }).selector
              ?.matchLabels['app.kubernetes.io/name'] === 'nats',
        ),
      ).toEqual([]);
      expect(find('AuthorizationPolicy', 'nats')?.['spec']).toEqual({
        selector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } },
        action: 'ALLOW',
        rules: [
          {
            from: [
              {
                source: {
                  principals: BROKER_CLIENTS.map((name) => `cluster.local/ns/acme/sa/${name}`),
                },
              },
            ],
            to: [{ operation: { ports: ['4222'] } }],
          },
        ],
      });
    });
  }
});

describe('deploy/nats/nats.conf on a real nats-server', () => {
  const SERVICES = ['order', 'payment', 'gateway', 'nats'];
  let dir: string;
  let server: ChildProcess | undefined;
  let output = '';
  let port: number;
  let monitoring: number;
  const connections: NatsConnection[] = [];

  /** The mounted files, at the paths the deployments mount them (modulo the root). */
  const env = () => ({
    NATS_TLS_CA_FILE: join(dir, 'certs/ca.crt'),
    NATS_TLS_CERT_FILE: join(dir, 'certs/nats.crt'),
    NATS_TLS_KEY_FILE: join(dir, 'certs/nats.key'),
    NATS_STORE_DIR: join(dir, 'store'),
  });
  const natsServer = (args: string[], environment: Record<string, string>) =>
    spawnSync(NATS_SERVER, args, {
      env: { PATH: process.env['PATH'], ...environment },
      encoding: 'utf8',
    });
  const connectAs = (service: string) =>
    connect({
      servers: `tls://localhost:${port}`,
      tls: {
        ca: readFileSync(join(dir, 'certs/ca.crt'), 'utf8'),
        cert: readFileSync(join(dir, `certs/${service}.crt`), 'utf8'),
        key: readFileSync(join(dir, `certs/${service}.key`), 'utf8'),
      },
      inboxPrefix: `_INBOX.${service}`,
      reconnect: false,
      timeout: 3_000,
    }).then((connection) => {
      connections.push(connection);
      return connection;
    });

  beforeAll(async () => {
    if (!existsSync(NATS_SERVER)) {
      throw new Error(
        `nats-server not found at ${NATS_SERVER}: apt-get install nats-server, or set NATS_SERVER_BIN`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'deploy-nats-'));
    await writeDevPki(dir, SERVICES, 'acme.internal');
    mkdirSync(join(dir, 'etc'));
    for (const file of ['nats.conf', 'authorization.conf']) {
      copyFileSync(join(CONFIG_DIR, file), join(dir, 'etc', basename(file)));
    }
    [port, monitoring] = [await freePort(), await freePort()];
    // The deployed file as it is; the ports only are moved, so that the test takes free ones.
    server = spawn(
      NATS_SERVER,
      [
        '--config',
        join(dir, 'etc/nats.conf'),
        '--port',
        String(port),
        '--http_port',
        String(monitoring),
      ],
      { env: { PATH: process.env['PATH'], ...env() }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await isListening(port)) || !output.includes('Server is ready')) {
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(`nats-server did not start:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 30_000);

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is a valid configuration (nats-server -t), and names a variable that is not set', () => {
    const ok = natsServer(['-t', '-c', join(dir, 'etc/nats.conf')], env());
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({
      status: 0,
      stderr: expect.any(String),
    });
    const { NATS_STORE_DIR: _unset, ...rest } = env();
    const missing = natsServer(['-t', '-c', join(dir, 'etc/nats.conf')], rest);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("'NATS_STORE_DIR'");
  });

  it('runs JetStream with its store where NATS_STORE_DIR says, and answers the health probe on loopback', async () => {
    expect(output).toContain('Starting JetStream');
    expect(output).toContain(`Listening for client connections on 0.0.0.0:${port}`);
    expect(output).toContain(`127.0.0.1:${monitoring}`);
    const status = await new Promise<number | undefined>((resolve, reject) =>
      get(`http://127.0.0.1:${monitoring}/healthz`, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject),
    );
    expect(status).toBe(200);
    expect(existsSync(join(dir, 'store/jetstream'))).toBe(true);
  });

  it("lets payment publish its events, and refuses order publishing payment's", async () => {
    const payment = await connectAs('payment');
    const jsm = await payment.jetstreamManager();
    await jsm.streams.add({ name: 'EVENTS_PAYMENT', subjects: ['events.payment.>'] });
    const ack = await payment.jetstream().publish('events.payment.completed', Buffer.from('{}'));
    expect(ack.stream).toBe('EVENTS_PAYMENT');
    const order = await connectAs('order');
    await expect(
      order.jetstream().publish('events.payment.completed', Buffer.from('{}'), { timeout: 3_000 }),
    ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
  });

  it('refuses a service that takes no part in events, and a client without a certificate', async () => {
    await expect(connectAs('gateway')).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(
      connect({
        servers: `tls://localhost:${port}`,
        tls: { ca: readFileSync(join(dir, 'certs/ca.crt'), 'utf8') },
        reconnect: false,
        timeout: 3_000,
      }),
    ).rejects.toBeDefined();
    await expect(
      connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 3_000 }),
    ).rejects.toBeDefined();
  });
});
