import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isListening } from '@acme/bootstrap/testing';
import type { TestPki } from '@acme/bootstrap/testing';
import type { ServiceName } from './system';

/** The calls of the chain: who calls whom (payment calls order back with the outbox's event). */
export const MESH_CALLS = [
  ['gateway', 'order'],
  ['order', 'payment'],
  ['payment', 'order'],
] as const satisfies readonly (readonly [ServiceName, ServiceName])[];

type Callee = (typeof MESH_CALLS)[number][1];

export interface SidecarPorts {
  /** Where each callee's sidecar takes mutual TLS from other sidecars. */
  inbound: Record<Callee, number>;
  /** Where a caller's sidecar takes its app's plaintext for a callee: `outbound[caller][callee]`. */
  outbound: Partial<Record<ServiceName, Partial<Record<Callee, number>>>>;
}

/**
 * The HAProxy configuration of one pod's sidecar, in TCP mode with one
 * thread, as Envoy runs per pod in a mesh: mutual TLS 1.3 in (verifying the
 * peer's certificate against the CA) to its app's plaintext port, and out,
 * from its app's plaintext, to each callee's sidecar (verifying the callee's
 * name too).
 */
export function sidecarConfig(options: {
  service: ServiceName;
  appPort: number;
  ports: SidecarPorts;
  /** The service's certificate and key in one PEM file, as HAProxy takes them. */
  pemFile: string;
  caFile: string;
}): string {
  const { service, appPort, ports, pemFile, caFile } = options;
  const tls = `ssl crt ${pemFile} ca-file ${caFile} verify required ssl-min-ver TLSv1.3`;
  const lines = [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 1h',
    '  timeout server 1h',
  ];
  const inbound = (ports.inbound as Partial<Record<ServiceName, number>>)[service];
  if (inbound !== undefined) {
    lines.push(
      'frontend inbound',
      `  bind 127.0.0.1:${inbound} ${tls}`,
      '  default_backend app',
      'backend app',
      `  server app 127.0.0.1:${appPort}`,
    );
  }
  for (const [callee, port] of Object.entries(ports.outbound[service] ?? {})) {
    lines.push(
      `frontend to_${callee}`,
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${callee}`,
      `backend ${callee}`,
      `  server ${callee} 127.0.0.1:${ports.inbound[callee as Callee]} ${tls} sni str(${callee}) verifyhost ${callee}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One HAProxy sidecar per service, started beside a system that runs with
 * `TRANSPORT_SECURITY=mesh`: the services speak plaintext to their sidecars,
 * the sidecars mutual TLS to each other. Needs `haproxy` on the PATH.
 */
export class MeshSidecars {
  private readonly processes = new Map<ServiceName, ChildProcess>();

  private constructor(readonly ports: SidecarPorts) {}

  static assertInstalled(): void {
    try {
      execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        'the mesh comparison needs HAProxy as its sidecar: install it (Debian, Ubuntu: apt-get install haproxy), or run the bench with --no-mesh',
      );
    }
  }

  static async allocate(): Promise<MeshSidecars> {
    const inbound = { order: await freePort(), payment: await freePort() };
    const outbound: SidecarPorts['outbound'] = {};
    for (const [caller, callee] of MESH_CALLS) {
      outbound[caller] = { ...outbound[caller], [callee]: await freePort() };
    }
    return new MeshSidecars({ inbound, outbound });
  }

  /** `host:port` a caller's app uses for a callee: its own sidecar's outbound port. */
  address(caller: ServiceName, callee: Callee): string {
    return `127.0.0.1:${this.ports.outbound[caller]?.[callee] ?? 0}`;
  }

  async start(
    material: TestPki,
    appPorts: Record<ServiceName, number>,
    logDir: string,
  ): Promise<void> {
    const services = Object.keys(appPorts) as ServiceName[];
    for (const service of services) {
      const pemFile = material.file(`${service}.pem`);
      writeFileSync(
        pemFile,
        // One PEM block after the other, each on its own lines.
        [`${service}.crt`, `${service}.key`]
          .map((name) => `${readFileSync(material.file(name), 'utf8').trim()}\n`)
          .join(''),
        { mode: 0o600 },
      );
      const configFile = material.file(`${service}.sidecar.cfg`);
      writeFileSync(
        configFile,
        sidecarConfig({
          service,
          appPort: appPorts[service],
          ports: this.ports,
          pemFile,
          caFile: material.file('ca.crt'),
        }),
      );
      const log = openSync(join(logDir, `mesh-${service}-sidecar.log`), 'w');
      // -db: stay in the foreground, so that the process is the proxy itself.
      this.processes.set(
        service,
        spawn('haproxy', ['-db', '-f', configFile], { stdio: ['ignore', log, log] }),
      );
      closeSync(log);
    }
    const listening = [
      ...Object.values(this.ports.inbound),
      ...Object.values(this.ports.outbound).flatMap((ports) => Object.values(ports ?? {})),
    ];
    const deadline = Date.now() + 10_000;
    for (const port of listening) {
      while (!(await isListening(port))) {
        const dead = [...this.processes].find(([, child]) => child.exitCode !== null);
        if (dead || Date.now() > deadline) {
          throw new Error(
            `the ${dead?.[0] ?? ''} sidecar did not start: see ${join(logDir, `mesh-${dead?.[0] ?? 'gateway'}-sidecar.log`)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  pids(): number[] {
    return [...this.processes.values()].map((child) => child.pid ?? 0);
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
  }
}
