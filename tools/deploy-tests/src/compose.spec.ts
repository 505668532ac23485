import { writeDevPki } from '@acme/transport/testing';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { composeSchemaErrors, loadCompose } from './lib/compose';
import type { ComposeService } from './lib/compose';
import { deployableApps, WORKSPACE } from './lib/workspace';

const PUBLISHED = ['auth-server', 'gateway'];
const SECRET_LIKE = /PASSWORD|SECRET|TOKEN|PRIVATE|KEY|DATABASE_URL|REDIS_URL/;

const environment = (service: ComposeService): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((entry) => entry.split(/=(.*)/s).slice(0, 2)))
    : (service.environment ?? {});
const secretTargets = (service: ComposeService): Record<string, string> =>
  Object.fromEntries(
    (service.secrets ?? []).map((secret) =>
      typeof secret === 'string'
        ? [secret, `/run/secrets/${secret}`]
        : [
            secret.source,
            secret.target?.startsWith('/')
              ? secret.target
              : `/run/secrets/${secret.target ?? secret.source}`,
          ],
    ),
  );
const list = (value: string[] | Record<string, unknown> | undefined) =>
  Array.isArray(value) ? value : Object.keys(value ?? {});

describe('docker-compose.yml', () => {
  const { files, model } = loadCompose(join(WORKSPACE, 'docker-compose.yml'));
  const services = Object.entries(model.services);
  const ours = services.filter(([, service]) => service.build);

  it.each(files.map((file) => [relative(WORKSPACE, file.path), file.data]))(
    '%s follows the Compose Specification',
    (_path, data) => {
      expect(composeSchemaErrors(data)).toEqual([]);
    },
  );

  it('runs every app of the workspace from the one Dockerfile, each from its own included file', () => {
    expect(ours.map(([name]) => name).sort()).toEqual(deployableApps());
    for (const [name, service] of ours) {
      expect(service.build).toEqual({ context: WORKSPACE, args: { APP: name } });
      expect(files.map((file) => relative(WORKSPACE, file.path))).toContain(
        `deploy/compose/${name}.yml`,
      );
    }
  });

  it('runs Redis and PostgreSQL for the services', () => {
    expect(Object.keys(model.services)).toEqual(expect.arrayContaining(['redis', 'postgres']));
  });

  it('refers only to services, networks and secrets that it defines', () => {
    for (const [, service] of services) {
      for (const network of list(service.networks))
        expect(Object.keys(model.networks)).toContain(network);
      for (const secret of Object.keys(secretTargets(service)))
        expect(Object.keys(model.secrets)).toContain(secret);
      for (const dependency of list(service.depends_on))
        expect(Object.keys(model.services)).toContain(dependency);
    }
  });

  it('publishes the gateway and the auth-server only, on the loopback interface', () => {
    const published = services.filter(([, service]) => service.ports?.length).map(([name]) => name);
    expect(published.sort()).toEqual(PUBLISHED);
    for (const [, service] of services) {
      for (const port of service.ports ?? [])
        expect(String(port)).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      expect(service['network_mode']).toBeUndefined();
    }
  });

  it('keeps every other service on the internal network only, which has no route out', () => {
    expect(model.networks['internal']).toEqual({ internal: true });
    for (const [name, service] of services) {
      expect(list(service.networks)).toEqual(
        PUBLISHED.includes(name) ? ['edge', 'internal'] : ['internal'],
      );
    }
  });

  it('runs no container as root: our image has a non-root USER, the others name theirs', () => {
    for (const [, service] of services) {
      if (service.build) expect(service.user).toBeUndefined();
      else expect(service.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    }
    expect(readFileSync(join(WORKSPACE, 'Dockerfile'), 'utf8')).toMatch(
      /^USER [1-9]\d*:[1-9]\d*$/m,
    );
  });

  it('drops every capability and privilege escalation, and our containers have a read-only root filesystem', () => {
    for (const [, service] of services) {
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      expect(service['privileged']).toBeUndefined();
      expect(service['cap_add']).toBeUndefined();
    }
    for (const [, service] of ours) expect(service.read_only).toBe(true);
  });

  it('passes secrets as files mounted from git-ignored .dev/, never as values', () => {
    for (const [, secret] of Object.entries(model.secrets)) {
      expect(Object.keys(secret)).toEqual(['file']);
      expect(relative(WORKSPACE, secret.file as string)).toMatch(/^\.dev\//);
    }
    for (const [, service] of services) {
      const mounted = Object.values(secretTargets(service));
      for (const [name, value] of Object.entries(environment(service))) {
        expect(String(value)).not.toMatch(/:\/\/[^/\s:@]+:[^/\s@]+@/);
        if (!SECRET_LIKE.test(name)) continue;
        // A secret setting names a mounted file (or folder of them), never the secret itself.
        expect(name).toMatch(/_(FILE|DIR)$/);
        expect(mounted.some((target) => target === value || target.startsWith(`${value}/`))).toBe(
          true,
        );
      }
      for (const file of service.env_file ?? [])
        expect(relative(WORKSPACE, file)).toMatch(/^\.dev\//);
    }
    expect(readFileSync(join(WORKSPACE, '.gitignore'), 'utf8')).toMatch(/^\/?\.dev\/?$/m);
  });

  describe('deploy/compose/prepare.mjs', () => {
    let dev: string;

    beforeAll(async () => {
      dev = mkdtempSync(join(tmpdir(), 'compose-prepare-'));
      await writeDevPki(dev, deployableApps(), 'acme.internal');
      mkdirSync(join(dev, 'keys'));
      writeFileSync(
        join(dev, 'keys/payment.data-keys.json'),
        '{"current":"k","keys":{"k":"AAAA"}}',
      );
      const run = spawnSync(process.execPath, ['deploy/compose/prepare.mjs'], {
        cwd: WORKSPACE,
        env: { ...process.env, ACME_DEV_DIR: dev, ACME_SKIP_DEV_SETUP: '1' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (run.status !== 0) throw new Error(`prepare.mjs failed:\n${run.stdout}${run.stderr}`);
    }, 90_000);

    afterAll(() => rmSync(dev, { recursive: true, force: true }));

    const inDev = (path: string) => join(dev, relative(join(WORKSPACE, '.dev'), path));

    it('creates every secret file and env file the compose files name', () => {
      for (const secret of Object.values(model.secrets))
        expect(existsSync(inDev(secret.file as string))).toBe(true);
      for (const [, service] of services)
        for (const file of service.env_file ?? []) expect(existsSync(inDev(file))).toBe(true);
    });

    it('keeps them in a folder only its owner can enter', () => {
      expect(statSync(join(dev, 'compose')).mode & 0o777).toBe(0o700);
    });

    it('gives the services passwords that match the ones Redis and PostgreSQL are given', () => {
      const redisPassword = readFileSync(join(dev, 'compose/redis-password'), 'utf8').trim();
      expect(readFileSync(join(dev, 'compose/redis.conf'), 'utf8')).toContain(
        `requirepass ${redisPassword}\n`,
      );
      expect(readFileSync(join(dev, 'compose/redis-url'), 'utf8')).toBe(
        `redis://default:${redisPassword}@redis:6379`,
      );
      const postgresPassword = readFileSync(join(dev, 'compose/postgres-password'), 'utf8').trim();
      expect(readFileSync(join(dev, 'compose/order.env'), 'utf8')).toContain(
        `postgres://acme:${postgresPassword}@postgres:5432/acme`,
      );
      expect(redisPassword).toMatch(/^[0-9a-f]{64}$/);
    });

    it("writes the auth-server's signing keys in its own format, private keys included", () => {
      const jwks = JSON.parse(
        readFileSync(join(dev, 'compose/auth-server/signing-keys.json'), 'utf8'),
      ) as { keys: { d?: string }[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      expect(jwks.keys.every((key) => key.d)).toBe(true);
    });
  });
});
