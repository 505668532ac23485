import { TestIssuer } from '@acme/auth/testing';
import type { Order } from '@acme/contracts';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { request } from './support/http';
import { AppProcess, freePort } from '@acme/bootstrap/testing';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

/** A request whose answer may not be JSON, with any headers (fetch would refuse some). */
function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
  }>((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The edge of the running gateway: IP rules, CORS, request limits, headers,
 * request ids, logs, health and OpenAPI, through real processes. Three
 * gateways share one order and payment: the system's own (clients connect
 * directly), one behind a trusted proxy (127.0.0.1, so these tests can speak
 * for it with X-Forwarded-For), and one whose order never answers.
 */
describe('gateway edge', () => {
  const ADMIN_RANGES = '203.0.113.0/24,2001:db8::/32';
  let issuer: TestIssuer;
  let system: SecureSystem;
  let proxied: AppProcess;
  let stalled: AppProcess;
  let blackHole: Server;
  const sockets: Socket[] = [];
  let alice: string;
  let carol: string;
  let admin: string;
  const password = `pw-${randomUUID()}`;

  const gateway = () => system.gatewayUrl;
  const urlOf = (process: AppProcess) => `http://127.0.0.1:${process.port}`;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, { env: { IP_ALLOW_LISTS: `admin=${ADMIN_RANGES}` } });
    await system.start();
    // An "order service" that accepts connections and never says a word.
    blackHole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const blackHolePort = (blackHole.address() as { port: number }).port;
    const base = system.envOf('gateway');
    const [proxiedPort, stalledPort] = [await freePort(), await freePort()];
    proxied = new AppProcess('gateway', proxiedPort, {
      ...base,
      PORT: String(proxiedPort),
      TRUSTED_PROXIES: '127.0.0.1',
      IP_DENY: '198.51.100.0/24',
    });
    stalled = new AppProcess('gateway', stalledPort, {
      ...base,
      PORT: String(stalledPort),
      ORDER_ADDRESS: `127.0.0.1:${blackHolePort}`,
      CALL_TIMEOUT_MS: '10000',
      REQUEST_TIMEOUT_MS: '800',
    });
    await Promise.all([proxied.start(), stalled.start()]);
    alice = issuer.userToken('alice', { roles: ['user'], scope: 'orders:read orders:write' });
    carol = issuer.userToken('carol', { roles: ['user'], scope: 'orders:read orders:write' });
    admin = issuer.userToken('bob', { roles: ['user', 'admin'], scope: 'orders:read admin:read' });
  });

  afterAll(async () => {
    await Promise.all([proxied?.stop(), stalled?.stop()]);
    sockets.forEach((socket) => socket.destroy());
    blackHole?.close();
    await system?.stop();
    await issuer?.stop();
  });

  describe('IP rules', () => {
    const admins = (
      url: string,
      headers: Record<string, string> = {},
      token: string | undefined = admin,
    ) => request(url, 'GET', '/api/admin/orders', { token, headers });

    it('answers 403 to an admin whose address is not in the admin list, before looking at the token', async () => {
      expect((await admins(gateway())).status).toBe(403);
      expect((await admins(gateway(), {}, undefined)).status).toBe(403);
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      expect((await admins(gateway(), { 'x-forwarded-for': '203.0.113.5' })).status).toBe(403);
    });

    it.each(['203.0.113.5', '2001:db8::7', '::ffff:203.0.113.5'])(
      'admits the client a trusted proxy reports at %s, in the admin list',
      async (client) => {
        expect((await admins(urlOf(proxied), { 'x-forwarded-for': client })).status).toBe(200);
      },
    );

    it('takes the address the trusted proxy saw, not one the client put in front of it', async () => {
      expect(
        (await admins(urlOf(proxied), { 'x-forwarded-for': '203.0.113.5, 192.0.2.1' })).status,
      ).toBe(403);
    });

    it('answers 403 to a denied range on every path, public ones included', async () => {
      for (const path of ['/api/public/info', '/healthz', '/docs-json']) {
        const response = await raw(urlOf(proxied), 'GET', path, {
          'x-forwarded-for': '198.51.100.7',
        });
        expect(response.status).toBe(403);
      }
      expect(
        (
          await request(urlOf(proxied), 'GET', '/api/public/info', {
            headers: { 'x-forwarded-for': '192.0.2.9' },
          })
        ).status,
      ).toBe(200);
    });
  });

  describe("an admin on another user's order (order's anyOf(hasRole('admin', { from: 'admin' }), isOwner) policy)", () => {
    const inside = { 'x-forwarded-for': '203.0.113.5' };
    const outside = { 'x-forwarded-for': '192.0.2.9' };
    let orderId: string;
    let adminWriter: string;

    beforeAll(async () => {
      adminWriter = issuer.userToken('bob', {
        roles: ['user', 'admin'],
        scope: 'orders:read orders:write',
      });
      const created = await request<Order>(urlOf(proxied), 'POST', '/api/orders', {
        token: alice,
        headers: outside,
        body: { items: [{ sku: 'book-1', quantity: 1 }] },
      });
      expect(created.status).toBe(201);
      orderId = created.body.id;
    });

    const order = (method: string, token: string, headers: Record<string, string>) =>
      request(urlOf(proxied), method, `/api/orders/${orderId}`, { token, headers });

    it('answers 403 to an admin outside the admin ranges, who can neither read nor delete it', async () => {
      expect((await order('GET', adminWriter, outside)).status).toBe(403);
      expect((await order('DELETE', adminWriter, outside)).status).toBe(403);
      expect(
        (await request(gateway(), 'GET', `/api/orders/${orderId}`, { token: admin })).status,
      ).toBe(403);
      expect((await order('GET', alice, outside)).status).toBe(200);
    });

    it('lets the owner read her order from anywhere, and an admin from the admin ranges read and delete it', async () => {
      expect((await order('GET', alice, outside)).status).toBe(200);
      expect((await order('GET', adminWriter, inside)).status).toBe(200);
      expect((await order('DELETE', adminWriter, inside)).status).toBe(204);
      expect((await order('GET', alice, outside)).status).toBe(404);
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      raw(gateway(), 'OPTIONS', '/api/orders', {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      });

    it('answers a preflight from the listed origin, with credentials', async () => {
      const response = await preflight('http://localhost:4200');
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('http://localhost:4200');
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      expect(response.headers['access-control-allow-methods']).toContain('POST');
      expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'authorization',
      );
    });

    it.each(['https://evil.example', 'http://localhost:4200.evil.example', 'null'])(
      'gives an unlisted origin (%s) no CORS headers at all',
      async (origin) => {
        const response = await preflight(origin);
        expect(response.headers['access-control-allow-origin']).toBeUndefined();
        expect(response.headers['access-control-allow-credentials']).toBeUndefined();
        const simple = await raw(gateway(), 'GET', '/api/public/info', { origin });
        expect(simple.headers['access-control-allow-origin']).toBeUndefined();
      },
    );
  });

  describe('request limits', () => {
    it('answers 413 to a JSON body over 100 kB, before authentication', async () => {
      const body = JSON.stringify({ items: [{ sku: 'x'.repeat(110 * 1024), quantity: 1 }] });
      const response = await raw(
        gateway(),
        'POST',
        '/api/orders',
        { 'content-type': 'application/json' },
        body,
      );
      expect(response.status).toBe(413);
      expect(JSON.parse(response.text)).toMatchObject({ statusCode: 413 });
    });

    it.each([
      ['text/plain', 'items=1'],
      ['application/x-www-form-urlencoded', 'items=1'],
      ['application/xml', '<items/>'],
    ])('answers 415 to a %s body', async (type, body) => {
      const response = await raw(
        gateway(),
        'POST',
        '/api/orders',
        { 'content-type': type, authorization: `Bearer ${alice}` },
        body,
      );
      expect(response.status).toBe(415);
    });

    it('answers 400 to malformed JSON, without echoing a stack', async () => {
      const response = await raw(
        gateway(),
        'POST',
        '/api/orders',
        { 'content-type': 'application/json' },
        '{"items": [',
      );
      expect(response.status).toBe(400);
      expect(response.text).not.toMatch(/at .*\.js/);
    });

    it('answers 400 to an otherwise valid body that would poison the prototype', async () => {
      const response = await raw(
        gateway(),
        'POST',
        '/api/orders',
        { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
        '{"items": [{"sku": "book-1", "quantity": 1}], "__proto__": {"isAdmin": true}}',
      );
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({
        message: 'a "__proto__" key is not accepted anywhere in the input',
      });
    });

    it('answers 414 to a URL over 2048 characters, and 431 to 20 kB of headers', async () => {
      expect((await raw(gateway(), 'GET', `/api/public/info?q=${'a'.repeat(2100)}`)).status).toBe(
        414,
      );
      expect(
        (await raw(gateway(), 'GET', '/api/public/info', { 'x-padding': 'a'.repeat(20_000) }))
          .status,
      ).toBe(431);
    });

    it('answers 504 within REQUEST_TIMEOUT_MS when order never answers, instead of hanging', async () => {
      const started = Date.now();
      const response = await request(urlOf(stalled), 'GET', '/api/orders', { token: alice });
      expect(response.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('answers 504 within REQUEST_TIMEOUT_MS to a request with a body too', async () => {
      const started = Date.now();
      const response = await request(urlOf(stalled), 'POST', '/api/orders', {
        token: alice,
        body: { items: [{ sku: 'book-1', quantity: 1 }] },
      });
      expect(response.status).toBe(504);
      expect(response.body).toMatchObject({ message: 'no answer within the request timeout' });
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });

  describe('security headers', () => {
    it('sets helmet headers and hides the framework', async () => {
      const response = await raw(gateway(), 'GET', '/api/public/info');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['x-powered-by']).toBeUndefined();
    });

    it('sets them on an answer refused before routing too', async () => {
      const refused = await raw(gateway(), 'GET', `/api/public/info?q=${'a'.repeat(2100)}`);
      expect(refused.status).toBe(414);
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
      expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('request ids and logs', () => {
    let order: Order;
    const traceId = `e2e-trace-${randomUUID()}`;

    beforeAll(async () => {
      order = (
        await request<Order>(gateway(), 'POST', '/api/orders', {
          token: alice,
          body: { items: [{ sku: 'book-1', quantity: 1 }] },
        })
      ).body;
    });

    it('returns a well-formed X-Request-Id as given and replaces a malformed one', async () => {
      const given = await request(gateway(), 'GET', '/api/public/info', {
        headers: { 'x-request-id': traceId },
      });
      expect(given.headers.get('x-request-id')).toBe(traceId);
      for (const bad of ['not a valid id', 'short', 'x'.repeat(200), '{"json":1}']) {
        const malformed = await request(gateway(), 'GET', '/api/public/info', {
          headers: { 'x-request-id': bad },
        });
        expect(malformed.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    it('carries the request id to order and payment, whose log lines name it', async () => {
      const paid = await request<Order>(gateway(), 'POST', `/api/orders/${order.id}/pay`, {
        token: alice,
        body: {},
        headers: { 'x-request-id': traceId },
      });
      expect(paid.status).toBe(200);
      for (const service of ['gateway', 'order', 'payment'] as const) {
        await eventually(() =>
          jsonLines(system.processes.get(service)?.output ?? '').some(
            (line) => line['requestId'] === traceId,
          ),
        );
      }
    });

    it('writes an authz_fail audit line at each hop that refused: who, what, why, and never the token', async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const denied = await request(gateway(), 'GET', `/api/orders/${order.id}`, {
        token: carol,
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      expect(denied.status).toBe(403);
      const requestId = denied.headers.get('x-request-id');
      const lines = () =>
        jsonLines(system.logs()).filter(
          (line) => (line['audit'] as { requestId?: unknown } | undefined)?.requestId === requestId,
        );
      await eventually(() => lines().length >= 2);
      expect(lines()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            service: 'order',
            level: 40,
            audit: {
              event: 'authz_fail',
              principal: 'user:carol',
              // Messages name the calling service, and carry the trace context on.
              caller: expect.stringMatching(/^spiffe:\/\/.+\/gateway$/),
              action: 'order.get',
              reason: expect.stringContaining('isOwner'),
              requestId,
              traceId,
            },
          }),
          expect.objectContaining({
            service: 'gateway',
            audit: {
              event: 'authz_fail',
              principal: 'user:carol',
              action: `GET /api/orders/${order.id}`,
              reason: expect.any(String),
              requestId,
              traceId,
              from: '127.0.0.1',
            },
          }),
        ]),
      );
      expect(JSON.stringify(lines())).not.toContain(carol);
    });

    it('logs every line as JSON, and never a token, a cookie or a password', async () => {
      await request(gateway(), 'GET', `/api/public/info?access_token=${alice}`, {
        token: alice,
        headers: { cookie: `session=${password}` },
      });
      await request(gateway(), 'POST', '/api/orders', {
        token: carol,
        body: { password, items: [] },
      });
      const lastId = `e2e-last-${randomUUID()}`;
      await request(gateway(), 'GET', '/api/orders', {
        token: `${alice.slice(0, -4)}AAAA`,
        headers: { 'x-request-id': lastId },
      });
      await eventually(() => system.logs().includes(lastId));
      const logs = [system.logs(), proxied.output, stalled.output].join('\n');
      for (const secret of [alice, carol, admin, password, alice.split('.')[2]]) {
        expect(logs).not.toContain(secret);
      }
      const lines = logs.split('\n').filter((line) => line.trim() !== '');
      expect(lines.length).toBeGreaterThan(50);
      expect(lines.filter((line) => !isJson(line))).toEqual([]);
    });
  });

  describe('health', () => {
    it('answers /healthz while the process serves', async () => {
      const response = await request(gateway(), 'GET', '/healthz');
      expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
    });

    it('is ready with the issuer keys alone, and reports order and payment at /healthz/dependencies to admin networks only', async () => {
      const report = (headers: Record<string, string>) =>
        request(urlOf(proxied), 'GET', '/healthz/dependencies', { headers });
      const ready = await request(gateway(), 'GET', '/readyz');
      expect(ready).toMatchObject({ status: 200, body: { details: { issuer: { status: 'up' } } } });
      expect(Object.keys((ready.body as { details: object }).details)).toEqual(['issuer']);
      expect(await report({ 'x-forwarded-for': '203.0.113.5' })).toMatchObject({
        status: 200,
        body: { details: { order: { status: 'up' }, payment: { status: 'up' } } },
      });
      expect((await report({ 'x-forwarded-for': '192.0.2.9' })).status).toBe(403);
      expect((await request(gateway(), 'GET', '/healthz/dependencies')).status).toBe(403);

      await system.processes.get('payment')?.stop();
      expect((await request(gateway(), 'GET', '/readyz')).status).toBe(200);
      expect(await report({ 'x-forwarded-for': '203.0.113.5' })).toMatchObject({
        status: 503,
        body: {
          status: 'error',
          details: { order: { status: 'up' }, payment: { status: 'down' } },
        },
      });
      await system.processes.get('payment')?.start();
    });
  });

  describe('OpenAPI', () => {
    it("serves the UI at /docs and the document, with the bearer scheme and each operation's requirements, at /docs-json", async () => {
      expect((await raw(gateway(), 'GET', '/docs')).text).toContain('swagger-ui');
      const { body } = await request<OpenApiDocument>(gateway(), 'GET', '/docs-json');
      expect(body.components.securitySchemes['bearer']).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(body.paths['/api/admin/orders'].get).toMatchObject({
        security: [{ bearer: [] }],
        'x-required-roles': { anyOf: ['admin'] },
        'x-required-scopes': ['admin:read'],
      });
      expect(body.paths['/api/public/info'].get.security).toEqual([{}]);
      expect(body.paths['/readyz'].get.security).toEqual([{}]);
      expect(body.paths['/api/orders'].get['parameters']).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'limit',
            in: 'query',
            required: false,
            schema: expect.objectContaining({ minimum: 1, maximum: 50 }),
          }),
          expect.objectContaining({ name: 'cursor', in: 'query', required: false }),
        ]),
      );
      expect(body.components.schemas['CreateOrderDto']).toMatchObject({
        properties: { items: { type: 'array' } },
      });
    });
  });

  describe('binding', () => {
    let port: string;
    beforeAll(async () => (port = String(await freePort())));
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, [join(__dirname, '../../../dist/apps/gateway/main.js')], {
        env: { PATH: process.env['PATH'] ?? '', ...system.envOf('gateway'), PORT: port, ...env },
        encoding: 'utf8',
        timeout: 15_000,
      });

    it('refuses to listen on a non-loopback address in plain HTTP unless TLS ends at a proxy in front', () => {
      const result = start({ HOST: '0.0.0.0' });
      expect(result.status).not.toBe(0);
      expect(result.stderr + result.stdout).toMatch(
        /HOST: 0\.0\.0\.0 is not a loopback address.*TLS_TERMINATED_BY_PROXY=true/,
      );
    });

    it('refuses TLS terminated at a proxy when no trusted proxy is listed, naming TRUSTED_PROXIES', () => {
      const result = start({ HOST: '0.0.0.0', TLS_TERMINATED_BY_PROXY: 'true' });
      expect(result.status).not.toBe(0);
      expect(result.stderr + result.stdout).toContain(
        'TRUSTED_PROXIES: empty while TLS_TERMINATED_BY_PROXY=true',
      );
    });

    it('names every bad edge key at once', () => {
      const result = start({
        IP_DENY: '10.0.0.0/33',
        CORS_ORIGINS: '*',
        RATE_LIMIT_BURST_CAPACITY: '0',
        REDIS_URL: 'http://x',
      });
      const output = result.stderr + result.stdout;
      expect(result.status).not.toBe(0);
      for (const key of ['IP_DENY', 'CORS_ORIGINS', 'RATE_LIMIT_BURST_CAPACITY', 'REDIS_URL']) {
        expect(output).toContain(`${key}:`);
      }
    });
  });
});

interface OpenApiDocument {
  paths: Record<string, Record<string, { security?: unknown; [extension: string]: unknown }>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

/** Logs reach this process through pipes, a little after the answers: wait for them a while. */
async function eventually(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not logged within 3 s: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter(isJson)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
