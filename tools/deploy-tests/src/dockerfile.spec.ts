import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deployableApps, WORKSPACE } from './lib/workspace';

/** A Dockerfile as stages: `FROM ... AS name` and the instructions under it. */
function stages(file = 'Dockerfile'): { name: string; from: string; lines: string[] }[] {
  const text = readFileSync(join(WORKSPACE, file), 'utf8').replace(/\\\n/g, ' ');
  const result: { name: string; from: string; lines: string[] }[] = [];
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) result.push({ from: from[1], name: from[2] ?? '', lines: [] });
    else result.at(-1)?.lines.push(line);
  }
  return result;
}

describe('Dockerfile', () => {
  const all = stages();
  const final = all.at(-1) as (typeof all)[number];

  it('builds in stages: the workspace with nx, production dependencies, then a slim runtime', () => {
    expect(all.map((stage) => stage.name)).toEqual(['build', 'deps', 'final']);
    expect(all.find((s) => s.name === 'build')?.lines).toContainEqual(
      expect.stringMatching(/^RUN npx nx build "\$\{APP\}"/),
    );
    expect(all.find((s) => s.name === 'deps')?.lines).toContainEqual(
      expect.stringMatching(/^RUN npm ci --omit=dev/),
    );
    expect(readFileSync(join(WORKSPACE, 'Dockerfile'), 'utf8')).toMatch(
      /^ARG NODE_IMAGE=node:(22|24)-[a-z]+-slim$/m,
    );
  });

  it('copies only build results into the final image, owned by root, and runs it as a non-root user', () => {
    const copies = final.lines.filter((line) => line.startsWith('COPY'));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).toMatch(/^COPY --from=(build|deps) /);
    expect(
      final.lines
        .filter((line) => line.startsWith('COPY'))
        .some((line) => line.includes('--chown')),
    ).toBe(false);
    expect(final.lines).toContainEqual(expect.stringMatching(/^USER [1-9]\d*:[1-9]\d*$/));
    expect(final.lines.some((line) => /^RUN /.test(line))).toBe(false);
  });

  describe.each(deployableApps())('what the final image of %s gets from the build stage', (app) => {
    // The build stage's own command that assembles /out, run against this workspace's apps/
    // with stand-ins for the build results.
    const root = mkdtempSync(join(tmpdir(), 'dockerfile-out-'));
    const out = join(root, 'out');
    const files: string[] = [];
    beforeAll(() => {
      const assemble = all
        .find((stage) => stage.name === 'build')
        ?.lines.find((line) => line.startsWith('RUN mkdir -p /out'));
      if (!assemble) throw new Error('the build stage has no "RUN mkdir -p /out ..." line');
      const workspace = join(root, 'workspace');
      mkdirSync(join(workspace, 'dist/apps', app), { recursive: true });
      mkdirSync(join(workspace, 'docker'));
      for (const file of ['main.js', 'package.json', 'package-lock.json']) {
        writeFileSync(join(workspace, 'dist/apps', app, file), '');
      }
      writeFileSync(join(workspace, 'docker/healthcheck.js'), '');
      symlinkSync(join(WORKSPACE, 'apps'), join(workspace, 'apps'));
      const run = spawnSync('sh', ['-c', assemble.slice('RUN '.length).replaceAll('/out', out)], {
        cwd: workspace,
        env: { PATH: process.env['PATH'] ?? '', APP: app },
        encoding: 'utf8',
      });
      if (run.status !== 0) throw new Error(`the /out command failed: ${run.stderr}`);
      files.push(
        ...readdirSync(out, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => join(entry.parentPath, entry.name).slice(out.length + 1)),
      );
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('is the bundle, its manifests, the health check and the config folder the app reads', () => {
      expect(files).toEqual(
        expect.arrayContaining(['main.js', 'package.json', 'package-lock.json', 'healthcheck.js']),
      );
      for (const file of files) {
        expect(file).toMatch(new RegExp(`^([\\w.-]+|apps/${app}/config/[\\w./-]+)$`));
      }
    });

    it('holds no users or password hashes (the development users stay in apps/<app>/dev)', () => {
      for (const file of files) {
        expect(file).not.toMatch(/(^|\/)(dev|users\.json$)/);
        expect(readFileSync(join(out, file), 'utf8')).not.toContain('passwordHash');
      }
    });
  });

  it("runs production with two malloc arenas, not glibc's eight per host core", () => {
    const env = final.lines.filter((line) => line.startsWith('ENV ')).join(' ');

    expect(env).toMatch(/\bMALLOC_ARENA_MAX=2\b/);
  });

  it('has a health check and starts the app with node', () => {
    expect(final.lines).toContainEqual(
      expect.stringMatching(/^HEALTHCHECK .*CMD \["node", "healthcheck\.js"\]$/),
    );
    expect(final.lines.at(-1)).toBe('CMD ["node", "main.js"]');
  });

  it('sends no secrets, dependencies, build output or local state to the build', () => {
    const ignored = readFileSync(join(WORKSPACE, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(
      expect.arrayContaining([
        '.dev',
        'apps/*/dev',
        '.env',
        'node_modules',
        'dist',
        '.git',
        '**/*.key',
        '**/*.pem',
      ]),
    );
  });
});

describe('docker/web.Dockerfile', () => {
  const all = stages('docker/web.Dockerfile');
  const final = all.at(-1) as (typeof all)[number];

  it('builds the web client with nx, then copies only its build output, zod and the health check', () => {
    expect(all.map((stage) => stage.name)).toEqual(['build', 'final']);
    expect(all[0].lines).toContainEqual('RUN npx nx build web');
    expect(final.lines.filter((line) => line.startsWith('COPY'))).toEqual([
      'COPY --from=build /workspace/node_modules/zod ./node_modules/zod',
      'COPY --from=build /workspace/dist/apps/web/ ./',
      'COPY --from=build /workspace/docker/healthcheck.js ./',
    ]);
  });

  it('runs the server as a non-root user, with a health check', () => {
    expect(final.lines).toContainEqual(expect.stringMatching(/^USER [1-9]\d*:[1-9]\d*$/));
    expect(final.lines.some((line) => /^RUN /.test(line))).toBe(false);
    expect(final.lines).toContainEqual(
      expect.stringMatching(/^HEALTHCHECK .*CMD \["node", "healthcheck\.js"\]$/),
    );
    expect(final.lines.at(-1)).toBe('CMD ["node", "server.mjs"]');
  });
});

describe('docker/healthcheck.js (HTTP services)', () => {
  let server: Server;
  let port: number;

  const healthcheck = (path: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [join(WORKSPACE, 'docker/healthcheck.js')], {
        env: {
          PATH: process.env['PATH'] ?? '',
          PORT: String(port),
          HEALTHCHECK_HTTP_PATH: path,
          ...env,
        },
      });
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/slow') return; // never answers
      response.writeHead(request.url === '/healthz' ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('exits 0 when the path answers 2xx', async () => {
    expect(await healthcheck('/healthz')).toEqual({ code: 0, output: '' });
  });

  it('exits 1 when it answers an error', async () => {
    expect(await healthcheck('/readyz')).toEqual({
      code: 1,
      output: 'unhealthy: GET /readyz answered 503\n',
    });
  });

  it('exits 1 when it does not answer in time', async () => {
    expect(await healthcheck('/slow', { HEALTHCHECK_TIMEOUT_MS: '300' })).toEqual({
      code: 1,
      output: 'unhealthy: timed out\n',
    });
  });

  it('exits 1 when nothing listens', async () => {
    const result = await healthcheck('/healthz', { PORT: '9' });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/ECONNREFUSED/);
  });
});
