import { X509Certificate } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { freePort, isListening } from '@acme/bootstrap/testing';
import { ThrowawayWorkspace } from './throwaway-workspace';
import type { RunResult } from './throwaway-workspace';

const MINUTE = 60_000;
// Generous limits: about two minutes in all on an idle 2-core machine, but `npm test` runs other e2e suites beside it.

/**
 * The generator as an engineer uses it, in a throwaway copy of this workspace:
 * generate, get the dev certificate, then lint, test, build and e2e-test the
 * new service (its e2e suite starts it and calls it over mutual TLS with real
 * tokens), and check that the compose and Kubernetes tests accept it. The
 * --http variant's files are covered by the generator spec; running both here
 * would double the time.
 */
describe('nx g @acme/workspace-plugin:microservice', () => {
  let workspace: ThrowawayWorkspace;

  beforeAll(() => {
    workspace = new ThrowawayWorkspace();
  });

  afterAll(() => workspace?.remove());

  it('generates the service', async () => {
    succeeded(
      await workspace.nx(
        [
          'g',
          '@acme/workspace-plugin:microservice',
          'inventory',
          '--callers=gateway,order',
          '--no-interactive',
        ],
        4 * MINUTE,
      ),
    );
  });

  it('refuses a name that is taken, saying so', async () => {
    const result = await workspace.nx(
      ['g', '@acme/workspace-plugin:microservice', 'order', '--no-interactive'],
      2 * MINUTE,
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('a project or folder named "order" already exists');
  });

  it('gets a dev certificate from the cert command', async () => {
    succeeded(await workspace.script('tools/dev-setup/dev-setup.ts', [], MINUTE));
    const certificate = new X509Certificate(
      readFileSync(workspace.path('.dev/certs/inventory.crt')),
    );
    expect(certificate.subjectAltName).toContain('URI:spiffe://acme.internal/inventory');
  });

  it('passes its lint, unit and e2e tests (real process, mutual TLS, real tokens), and the deploy tests accept it', async () => {
    const projects = 'inventory,inventory-e2e,deploy-tests';
    const result = succeeded(
      await workspace.nx(
        ['run-many', '-t', 'lint,test,e2e', '-p', projects, '--output-style=static'],
        6 * MINUTE,
      ),
    );
    expect(result.output).toContain(
      'answers gateway sending the token of a user with inventory:read',
    );
    expect(result.output).toContain('refuses the TLS handshake of a certificate from another CA');
    expect(existsSync(workspace.path('dist/apps/inventory/main.js'))).toBe(true);
  });

  it('appears in the generated authorization and configuration docs, which then pass their checks', async () => {
    const npm = (script: string, ...args: string[]) =>
      workspace.run('npm', ['run', '-s', script, '--', ...args], 2 * MINUTE);
    succeeded(await npm('auth:report'));
    succeeded(await npm('config:docs'));
    expect(readFileSync(workspace.path('docs/AUTHORIZATION.md'), 'utf8')).toContain(
      '`inventory.list`',
    );
    expect(readFileSync(workspace.path('docs/CONFIGURATION.md'), 'utf8')).toContain('## inventory');
    succeeded(await npm('auth:report', '--check'));
    succeeded(await npm('config:docs', '--check'));
  });

  describe("the image's health check (docker/healthcheck.js) against the built service", () => {
    let port: number;
    const env = (identity: string) => ({
      PORT: String(port),
      TLS_CA_FILE: workspace.path('.dev/certs/ca.crt'),
      TLS_CERT_FILE: workspace.path('.dev/certs', `${identity}.crt`),
      TLS_KEY_FILE: workspace.path('.dev/certs', `${identity}.key`),
    });
    const healthcheck = (identity: string) =>
      workspace.run(
        process.execPath,
        [workspace.path('docker/healthcheck.js')],
        10_000,
        env(identity),
      );
    let stop: () => Promise<void>;

    beforeAll(async () => {
      port = await freePort();
      const service = spawn(process.execPath, ['dist/apps/inventory/main.js'], {
        cwd: workspace.root,
        env: {
          PATH: process.env['PATH'] ?? '',
          ...env('inventory'),
          AUTH_ISSUER: 'http://127.0.0.1:9',
        },
        stdio: 'ignore',
      });
      stop = () =>
        new Promise((resolve) => {
          if (service.exitCode !== null) return resolve();
          service.once('exit', () => resolve());
          service.kill('SIGTERM');
        });
      await waitForPort(port);
    });

    afterAll(() => stop?.());

    it("passes with the service's own certificate", async () => {
      succeeded(await healthcheck('inventory'));
    });

    it('fails with the certificate of another service', async () => {
      const result = await healthcheck('order');
      expect(result.code).toBe(1);
      expect(result.output).toContain('unhealthy');
    });
  });
});

/** The result, or a failure that shows the end of what the command printed. */
function succeeded(result: RunResult): RunResult {
  if (result.code !== 0) {
    throw new Error(`exit code ${result.code}:\n${result.output.slice(-6_000)}`);
  }
  return result;
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await isListening(port))) {
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
