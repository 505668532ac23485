import { freePort, isListening, writeDevPki } from '@acme/transport/testing';
import { Redis } from 'ioredis';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, scryptSync } from 'node:crypto';
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
import { Client } from 'pg';
import { composeSchemaErrors, loadCompose } from './lib/compose';
import type { ComposeService } from './lib/compose';
import { deployableApps, WORKSPACE } from './lib/workspace';

const PUBLISHED = ['auth-server', 'gateway', 'grafana', 'web'];
/** Networks of the published services and the observability tools; every other one is on `internal` only. */
const EDGE_NETWORKS: Record<string, string[]> = {
  'auth-server': ['edge', 'internal'],
  gateway: ['edge', 'internal'],
  // The browser calls the gateway and the auth-server; the web server itself calls nothing.
  web: ['edge'],
  // The observability profile: Grafana reaches Prometheus and Jaeger over `telemetry` only.
  grafana: ['edge', 'telemetry'],
  prometheus: ['internal', 'telemetry'],
  jaeger: ['internal', 'telemetry'],
};
/** Apps built from an image recipe of their own rather than the root Dockerfile. */
const OWN_RECIPE: Record<string, string> = { web: 'docker/web.Dockerfile' };
/** Compose settings and secrets that carry a datastore credential. */
const CREDENTIAL = /redis|postgres|database/i;
const POSTGRES_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
// A key prefix names where data goes, not a key.
const SECRET_LIKE = /PASSWORD|SECRET|TOKEN|PRIVATE|KEY(?!_PREFIX$)|DATABASE_URL|REDIS_URL/;

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

  it('runs every app of the workspace from the one Dockerfile (web from its own), each from its own included file', () => {
    expect(ours.map(([name]) => name).sort()).toEqual(
      [...deployableApps(), ...Object.keys(OWN_RECIPE)].sort(),
    );
    for (const [name, service] of ours) {
      expect(service.build).toEqual(
        OWN_RECIPE[name]
          ? { context: WORKSPACE, dockerfile: OWN_RECIPE[name] }
          : { context: WORKSPACE, args: { APP: name } },
      );
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
      for (const network of list(service.networks)) {
        expect(Object.keys(model.networks)).toContain(network);
      }
      for (const secret of Object.keys(secretTargets(service))) {
        expect(Object.keys(model.secrets)).toContain(secret);
      }
      for (const dependency of list(service.depends_on)) {
        expect(Object.keys(model.services)).toContain(dependency);
      }
    }
  });

  it('publishes the gateway, the auth-server, web and Grafana only, on the loopback interface', () => {
    const published = services.filter(([, service]) => service.ports?.length).map(([name]) => name);
    expect(published.sort()).toEqual(PUBLISHED);
    for (const [, service] of services) {
      for (const port of service.ports ?? []) {
        expect(String(port)).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
      expect(service['network_mode']).toBeUndefined();
    }
  });

  it("serves every app's metrics on the internal network only, and publishes no metrics port", () => {
    const aliases = (service: ComposeService, network: string) =>
      Array.isArray(service.networks)
        ? []
        : (((service.networks?.[network] as { aliases?: string[] } | null)?.aliases ??
            []) as string[]);
    for (const name of deployableApps()) {
      const service = model.services[name];
      const env = environment(service);
      expect(Number(env['METRICS_PORT'])).toBeGreaterThan(0);
      const networks = list(service.networks);
      if (networks.length === 1 && networks[0] === 'internal') {
        expect({ name, host: env['METRICS_HOST'] }).toEqual({ name, host: '0.0.0.0' });
        continue;
      }
      // On the edge network too: the address of an alias it holds on the internal network
      // alone, which no other container has.
      const host = env['METRICS_HOST'];
      expect({ name, host, internal: aliases(service, 'internal') }).toEqual({
        name,
        host: `${name}-metrics`,
        internal: [host],
      });
      for (const [other, otherService] of services) {
        expect(other).not.toBe(host);
        for (const network of list(otherService.networks)) {
          if (other === name && network === 'internal') continue;
          expect(aliases(otherService, network)).not.toContain(host);
        }
      }
    }
    expect(
      deployableApps().filter(
        (name) => environment(model.services[name])['METRICS_HOST'] !== '0.0.0.0',
      ),
    ).toEqual(['auth-server', 'gateway']);
    // Those set here, and the defaults of the services that keep them (docs/observability.md).
    const metricsPorts = [
      ...services.map(([, service]) => environment(service)['METRICS_PORT']).filter(Boolean),
      ...['9400', '9401', '9402', '9403'],
    ];
    for (const [, service] of services) {
      for (const port of service.ports ?? []) {
        expect(metricsPorts).not.toContain(String(port).split(':').pop());
      }
      expect(service['expose']).toBeUndefined();
    }
  });

  it('keeps every other service on the internal network only, which has no route out', () => {
    expect(model.networks['internal']).toEqual({ internal: true });
    expect(model.networks['telemetry']).toEqual({ internal: true });
    for (const [name, service] of services) {
      expect(list(service.networks)).toEqual(EDGE_NETWORKS[name] ?? ['internal']);
    }
  });

  it('runs no container as root: our image has a non-root USER, the others name theirs', () => {
    for (const [, service] of services) {
      if (service.build) expect(service.user).toBeUndefined();
      else expect(service.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    }
    for (const recipe of ['Dockerfile', ...Object.values(OWN_RECIPE)]) {
      expect(readFileSync(join(WORKSPACE, recipe), 'utf8')).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
    }
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
      for (const file of service.env_file ?? []) {
        expect(relative(WORKSPACE, file)).toMatch(/^\.dev\//);
      }
    }
    expect(readFileSync(join(WORKSPACE, '.gitignore'), 'utf8')).toMatch(/^\/?\.dev\/?$/m);
  });

  it("wires web to the gateway and the issuer, and both admit web's origin", () => {
    const published = (name: string) =>
      `http://localhost:${String(model.services[name].ports?.[0]).split(':')[1]}`;
    const web = environment(model.services['web']);
    expect(web['GATEWAY_URL']).toBe(published('gateway'));
    expect(web['AUTH_ISSUER']).toBe(environment(model.services['auth-server'])['ISSUER']);
    expect(environment(model.services['gateway'])['CORS_ORIGINS']).toBe(published('web'));
    // web's DPoP proofs name the gateway as the browser addresses it: the gateway must agree.
    expect(environment(model.services['gateway'])['AUTH_DPOP_PUBLIC_ORIGIN']).toBe(
      published('gateway'),
    );
    const clients = JSON.parse(
      readFileSync(join(WORKSPACE, 'apps/auth-server/config/clients.json'), 'utf8'),
    ) as { client_id: string; redirect_uris: string[] }[];
    expect(
      clients.find((client) => client.client_id === (web['CLIENT_ID'] ?? 'web'))?.redirect_uris,
    ).toContain(`${published('web')}/callback`);
  });

  it('gives no two services the same datastore credential, nor the datastores their admin', () => {
    const holders = new Map<string, string[]>();
    for (const [name, service] of services) {
      const carried = [
        ...Object.keys(secretTargets(service)).filter((secret) => CREDENTIAL.test(secret)),
        ...(service.env_file ?? []),
      ];
      for (const credential of carried) {
        holders.set(credential, [...(holders.get(credential) ?? []), name]);
      }
    }
    expect([...holders].filter(([, names]) => names.length > 1)).toEqual([]);
    // The admin password is the database container's alone.
    expect(holders.get('postgres_password')).toEqual(['postgres']);
  });

  describe('deploy/compose/prepare.mjs', () => {
    let dev: string;

    beforeAll(async () => {
      dev = mkdtempSync(join(tmpdir(), 'compose-prepare-'));
      // The apps and the broker, as npm run dev:setup issues them.
      await writeDevPki(dev, [...deployableApps(), 'nats'], 'acme.internal');
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
      for (const secret of Object.values(model.secrets)) {
        expect(existsSync(inDev(secret.file as string))).toBe(true);
      }
      for (const [, service] of services) {
        for (const file of service.env_file ?? []) expect(existsSync(inDev(file))).toBe(true);
      }
    });

    it('keeps them in a folder only its owner can enter', () => {
      expect(statSync(join(dev, 'compose')).mode & 0o777).toBe(0o700);
    });

    const readDev = (path: string) => readFileSync(join(dev, 'compose', path), 'utf8');
    /** The URL each service reaches its datastore with, from the files prepare.mjs wrote. */
    const datastoreUrls = () => ({
      gateway: new URL(readDev('gateway-redis-url')),
      'auth-server': new URL(readDev('auth-server/redis-url')),
      order: new URL(readDev('order-database-url')),
      payment: new URL(readDev('payment-database-url')),
    });
    const environmentOf = (name: string) => environment(model.services[name]);

    it('gives each service a datastore user of its own, with a password of its own', () => {
      const urls = datastoreUrls();
      expect(
        Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, url.username])),
      ).toEqual({
        gateway: 'gateway',
        'auth-server': 'auth-server',
        order: 'order_service',
        payment: 'payment_service',
      });
      const passwords = Object.values(urls).map((url) => url.password);
      expect(new Set(passwords).size).toBe(passwords.length);
      for (const password of passwords) expect(password).toMatch(/^[0-9a-f]{64}$/);
      expect(passwords).not.toContain(readDev('postgres-password').trim());
    });

    it('gives PostgreSQL the passwords of the service roles, and each service the schema its role owns', () => {
      const urls = datastoreUrls();
      const init = readFileSync(join(WORKSPACE, 'deploy/compose/postgres-init.sql'), 'utf8');
      for (const service of ['order', 'payment'] as const) {
        expect(readDev(`postgres-${service}-password`).trim()).toBe(urls[service].password);
        expect(urls[service].pathname).toBe(`/${environmentOf('postgres')['POSTGRES_DB']}`);
        expect(init).toContain(
          `CREATE SCHEMA ${environmentOf(service)['DATABASE_SCHEMA']} AUTHORIZATION ${service}_service;`,
        );
      }
    });

    it("gives Redis each user's password, and confines each user to its service's key prefix", () => {
      const acl = readDev('redis-users.acl');
      const urls = datastoreUrls();
      for (const service of ['gateway', 'auth-server'] as const) {
        const url = urls[service];
        const sha = createHash('sha256').update(url.password).digest('hex');
        const prefix = environmentOf(service)['REDIS_KEY_PREFIX'];
        expect(prefix).toBeTruthy();
        const [rule, ...others] = acl
          .split('\n')
          .filter((line) => line.startsWith(`user ${service} `));
        expect(others).toEqual([]);
        expect(rule.split(' ').filter((part) => part.startsWith('~'))).toEqual([`~${prefix}*`]);
        expect(rule).toContain(` #${sha} `);
      }
      expect(acl).not.toMatch(/^user (?!default |gateway |auth-server )/m);
    });

    describe('the Redis ACL, on a real redis-server', () => {
      let server: ChildProcess;
      let port: number;
      const clients: Redis[] = [];
      const as = (service: 'gateway' | 'auth-server' | 'nobody') => {
        const url = service === 'nobody' ? undefined : datastoreUrls()[service];
        const client = new Redis({
          port,
          host: '127.0.0.1',
          username: url?.username,
          password: url?.password,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
        });
        clients.push(client);
        return client;
      };

      beforeAll(async () => {
        port = await freePort();
        server = spawn(
          'redis-server',
          [
            ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
            ...['--aclfile', join(dev, 'compose/redis-users.acl')],
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<string>((resolve) => {
          server.once('error', (error) =>
            resolve(`redis-server could not start (install redis-server): ${error.message}`),
          );
          server.once('exit', () => resolve(`redis-server exited:\n${output}`));
        });
        const listening = (async () => {
          while (!(await isListening(port))) await new Promise((r) => setTimeout(r, 50));
        })();
        const failure = await Promise.race([exited, listening]);
        if (failure) throw new Error(failure);
      }, 10_000);

      afterAll(async () => {
        await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
        server?.kill();
      });

      it('lets the auth-server keep grants and tokens under its prefix', async () => {
        const auth = as('auth-server');
        await auth
          .multi()
          .hset('auth-server:RefreshToken:r1', 'payload', '{}')
          .expire('auth-server:RefreshToken:r1', 60)
          .sadd('auth-server:grant:g1', 'RefreshToken:r1')
          .exec();
        expect(await auth.hgetall('auth-server:RefreshToken:r1')).toEqual({ payload: '{}' });
        expect(
          await auth.eval(
            "redis.call('set', KEYS[1], 0, 'EX', 60, 'NX') return redis.call('incrby', KEYS[1], 1)",
            1,
            'auth-server:login-failures:alice',
          ),
        ).toBe(1);
      });

      it('lets the gateway run its rate-limit script under its prefix', async () => {
        const gateway = as('gateway');
        const script = `local now = redis.call('TIME')
          redis.call('HMGET', KEYS[1], 'tokens', 'at')
          redis.call('HSET', KEYS[1], 'tokens', '1', 'at', now[1])
          redis.call('PEXPIRE', KEYS[1], 1000)
          return 1`;
        expect(await gateway.eval(script, 1, 'gateway:bucket:1.2.3.4')).toBe(1);
      });

      it('refuses the gateway every key of the auth-server, and commands it does not need', async () => {
        const gateway = as('gateway');
        await expect(gateway.hgetall('auth-server:RefreshToken:r1')).rejects.toThrow(/NOPERM/);
        await expect(gateway.smembers('auth-server:grant:g1')).rejects.toThrow(/NOPERM/);
        await expect(gateway.del('auth-server:RefreshToken:r1')).rejects.toThrow(/NOPERM/);
        await expect(
          gateway.eval("return redis.call('HGETALL', KEYS[1])", 1, 'auth-server:RefreshToken:r1'),
        ).rejects.toThrow(/NOPERM/);
        await expect(gateway.keys('*')).rejects.toThrow(/NOPERM/);
        await expect(gateway.flushall()).rejects.toThrow(/NOPERM/);
      });

      it("refuses the auth-server the gateway's keys, and anyone without a password everything but PING", async () => {
        await expect(as('auth-server').hgetall('gateway:bucket:1.2.3.4')).rejects.toThrow(/NOPERM/);
        const nobody = as('nobody');
        expect(await nobody.ping()).toBe('PONG');
        await expect(nobody.get('auth-server:RefreshToken:r1')).rejects.toThrow(/NOPERM/);
        await expect(nobody.call('AUTH', 'gateway', 'guess')).rejects.toThrow(/WRONGPASS/);
      });
    });

    it("gives the auth-server the development users' names and roles with generated passwords only you can read", () => {
      const devUsers = JSON.parse(
        readFileSync(join(WORKSPACE, 'apps/auth-server/dev/users.json'), 'utf8'),
      ) as { username: string; roles: string[]; passwordHash: string }[];
      const secrets = secretTargets(model.services['auth-server']);
      expect(secrets['auth_users']).toBe(environmentOf('auth-server')['USERS_FILE']);
      expect(model.secrets['auth_users'].file).toMatch(
        /\/\.dev\/compose\/auth-server\/users\.json$/,
      );
      const users = JSON.parse(readDev('auth-server/users.json')) as typeof devUsers;
      expect(users.map(({ username, roles }) => ({ username, roles }))).toEqual(
        devUsers.map(({ username, roles }) => ({ username, roles })),
      );
      for (const user of users) {
        const file = join(dev, 'compose/auth-server/passwords', user.username);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const password = readFileSync(file, 'utf8');
        expect(password).toMatch(/^[\w-]{16}$/);
        // scrypt$N$r$p$salt$hash, as apps/auth-server/src/users/password-hash.ts writes it.
        const [, N, r, p, salt, hash] = user.passwordHash.split('$');
        const derive = (candidate: string) =>
          scryptSync(candidate, Buffer.from(salt, 'base64url'), 32, {
            N: Number(N),
            r: Number(r),
            p: Number(p),
            maxmem: 64 * 1024 * 1024,
          }).toString('base64url');
        expect(derive(password)).toBe(hash);
        expect(derive(user.username)).not.toBe(hash);
      }
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

describe('deploy/compose/postgres-init.sql, on a real PostgreSQL', () => {
  // Roles belong to the whole server: the script runs in a throwaway database, and its roles
  // are dropped afterwards (and before, in case an earlier run stopped half-way). A lock held
  // for the whole block keeps runs in parallel (another workspace's) from meeting.
  const database = `compose_init_${process.pid}`;
  const ROLES = ['order_service', 'payment_service'];
  const admin = new Client({ connectionString: POSTGRES_URL });
  const opened: Client[] = [];
  const connectAs = async (role: string) => {
    const url = new URL(POSTGRES_URL);
    url.username = role;
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString() });
    opened.push(client);
    await client.connect();
    return client;
  };
  const dropAll = async () => {
    const leftovers = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'compose\\_init\\_%'",
    );
    for (const { datname } of leftovers.rows) {
      await admin.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    }
    for (const role of ROLES) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  };

  const initScript = (...variables: string[]) => {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${database}`;
    const run = spawnSync(
      'psql',
      [
        url.toString(),
        ...variables.flatMap((variable) => ['-v', variable]),
        '-f',
        join(WORKSPACE, 'deploy/compose/postgres-init.sql'),
      ],
      { encoding: 'utf8' },
    );
    if (run.error) {
      throw new Error(`psql could not run (install postgresql-client): ${run.error.message}`);
    }
    return run;
  };
  const existingRoles = async () =>
    (
      await admin.query<{ rolname: string }>(
        'SELECT rolname FROM pg_roles WHERE rolname = ANY($1)',
        [ROLES],
      )
    ).rows.map((row) => row.rolname);

  let withoutPassword: ReturnType<typeof initScript>;
  let rolesWithoutPassword: string[];

  beforeAll(async () => {
    await admin.connect();
    await admin.query("SELECT pg_advisory_lock(hashtext('deploy-tests:postgres-init'))");
    await dropAll();
    await admin.query(`CREATE DATABASE "${database}"`);
    withoutPassword = initScript('order_password=order-secret', 'payment_password=');
    rolesWithoutPassword = await existingRoles();
    const run = initScript('order_password=order-secret', 'payment_password=payment-secret');
    if (run.status !== 0) throw new Error(`postgres-init.sql failed:\n${run.stderr}`);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(opened.map((client) => client.end()));
    await dropAll();
    await admin.end(); // releases the lock
  });

  it('stops before changing anything when a password is missing', () => {
    expect(withoutPassword.status).not.toBe(0);
    expect(withoutPassword.stderr).toContain('a service password is missing or empty');
    expect(rolesWithoutPassword).toEqual([]);
  });

  it('makes a login role per service that is no superuser and may create neither roles nor databases', async () => {
    const roles = await admin.query(
      'SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
      [ROLES],
    );
    expect(roles.rows).toEqual(
      ROLES.map((rolname) => ({
        rolname,
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
      })),
    );
  });

  it('lets each role work in its own schema, and not create another', async () => {
    const order = await connectAs('order_service');
    await order.query('CREATE TABLE orders.orders (id int PRIMARY KEY)');
    await order.query('INSERT INTO orders.orders VALUES (1)');
    await expect(order.query('CREATE SCHEMA elsewhere')).rejects.toThrow(/permission denied/);
    await expect(order.query('CREATE TABLE public.t (id int)')).rejects.toThrow(
      /permission denied/,
    );
  });

  it("refuses a role every table of another service's schema", async () => {
    const order = await connectAs('order_service');
    await order.query('CREATE TABLE IF NOT EXISTS orders.secrets (id int)');
    const payment = await connectAs('payment_service');
    await expect(payment.query('SELECT * FROM orders.secrets')).rejects.toThrow(
      /permission denied for schema orders/,
    );
    await payment.query('CREATE TABLE payments.payments (id int)');
    await expect(order.query('SELECT * FROM payments.payments')).rejects.toThrow(
      /permission denied for schema payments/,
    );
  });
});
