import { TestIssuer } from '@acme/auth/testing';
import { deleteKeysUnder, RedisServer, TEST_REDIS_URL, testKeyPrefix } from '@acme/edge/testing';
import { Redis } from 'ioredis';
import type { Order } from '@acme/contracts';
import { eventually } from './support/eventually';
import { request } from './support/http';
import { AppProcess, freePort } from '@acme/bootstrap/testing';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem } from './support/system';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Rate limits of the running gateway: token buckets of 4, refilled at 1 a
 * second, in Redis (the machine's, under a key prefix of this run) shared by
 * two gateway processes; and, against a Redis of its own that this suite
 * kills and restarts, what a gateway does while Redis is gone.
 */
describe('gateway rate limits', () => {
  const prefix = testKeyPrefix();
  let issuer: TestIssuer;
  let system: SecureSystem;
  let twin: AppProcess;
  let ownRedis: RedisServer;
  let failOpen: AppProcess;
  let failClosed: AppProcess;
  let perAddress: AppProcess;

  const urlOf = (process: AppProcess) => `http://127.0.0.1:${process.port}`;
  const userToken = (sub: string) =>
    issuer.userToken(sub, { roles: ['user'], scope: 'orders:read' });
  const listOrders = (url: string, token?: string) =>
    request(url, 'GET', token ? '/api/orders' : '/api/public/info', { token });

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, {
      env: {
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT_REPLENISH_RATE: '1',
        RATE_LIMIT_BURST_CAPACITY: '4',
      },
    });
    await system.start();
    ownRedis = await RedisServer.start();
    const gatewayAt = async (env: Record<string, string>) => {
      const port = await freePort();
      return new AppProcess('gateway', port, {
        ...system.envOf('gateway'),
        PORT: String(port),
        ...env,
      });
    };
    twin = await gatewayAt({});
    failOpen = await gatewayAt({
      REDIS_URL: ownRedis.url,
      RATE_LIMIT_ON_REDIS_ERROR: 'local',
      REDIS_TIMEOUT_MS: '200',
    });
    failClosed = await gatewayAt({
      REDIS_URL: ownRedis.url,
      RATE_LIMIT_ON_REDIS_ERROR: 'reject',
      REDIS_TIMEOUT_MS: '200',
    });
    // Behind a trusted proxy (127.0.0.1, so X-Forwarded-For names the client), with a budget
    // of 5 per address and a caller's budget too large to matter.
    perAddress = await gatewayAt({
      TRUSTED_PROXIES: '127.0.0.1',
      REDIS_KEY_PREFIX: `${prefix}per-address:`,
      RATE_LIMIT_PER_ADDRESS_REPLENISH_RATE: '1',
      RATE_LIMIT_PER_ADDRESS_BURST_CAPACITY: '5',
      RATE_LIMIT_REPLENISH_RATE: '1000',
      RATE_LIMIT_BURST_CAPACITY: '1000',
    });
    await Promise.all([twin.start(), failOpen.start(), failClosed.start(), perAddress.start()]);
    // Ready, as an orchestrator waits for before sending traffic; perAddress left alone, its
    // small budget for 127.0.0.1 is the tests'.
    await Promise.all([twin, failOpen, failClosed].map((gateway) => gateway.waitUntilReady()));
    // The first request fetches the issuer's keys and opens the Redis connection: pay that
    // here, with a bucket of its own, so the bursts below measure the buckets, not a cold start.
    for (const gateway of [system.gatewayUrl, urlOf(twin)]) {
      expect((await listOrders(gateway, userToken('warm-up'))).status).toBe(200);
    }
  });

  afterAll(async () => {
    await Promise.all([twin?.stop(), failOpen?.stop(), failClosed?.stop(), perAddress?.stop()]);
    await ownRedis?.stop();
    await system?.stop();
    await issuer?.stop();
    await deleteKeysUnder(prefix);
  });

  it('answers a burst beyond the bucket with 429, Retry-After and RateLimit-* headers, and recovers at the replenish rate', async () => {
    const token = userToken('burst');
    const started = Date.now();
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await listOrders(system.gatewayUrl, token));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(burst.map((r) => r.headers.get('ratelimit-remaining'))).toEqual([
      '3',
      '2',
      '1',
      '0',
      '0',
    ]);
    const refused = burst[4];
    expect(refused.headers.get('ratelimit-limit')).toBe('4');
    expect(refused.headers.get('retry-after')).toBe('1'); // one token at 1/s
    expect(Number(refused.headers.get('ratelimit-reset'))).toBe(4); // 4 tokens at 1/s
    expect(refused.body).toMatchObject({ statusCode: 429 });

    await sleep(2_100); // at least 2.1 tokens
    // Spend until refused again; how many get through depends on how long the
    // requests take on a loaded machine, so bound it by the clock, not a count.
    const recovered = [];
    while (recovered.length < 12 && recovered.at(-1) !== 429) {
      recovered.push((await listOrders(system.gatewayUrl, token)).status);
    }
    const earned = Math.floor((Date.now() - started) / 1000);
    const admitted = recovered.filter((status) => status === 200).length;
    expect(recovered.slice(0, 2)).toEqual([200, 200]);
    expect(recovered.at(-1)).toBe(429);
    expect(admitted).toBeLessThanOrEqual(earned); // the burst spent the first 4
  });

  it("charges a payment its @RateLimit cost of 3 from the payer's budget", async () => {
    const token = issuer.userToken('payer', {
      roles: ['user'],
      scope: 'orders:read orders:write',
    });
    const created = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'book-1', quantity: 1 }] },
    });
    expect(created.status).toBe(201);
    const started = Date.now();
    const paid = await request(system.gatewayUrl, 'POST', `/api/orders/${created.body.id}/pay`, {
      token,
      body: {},
    });
    const earned = Math.ceil((Date.now() - started) / 1000);
    expect(paid.status).toBe(200);
    const before = Number(created.headers.get('ratelimit-remaining'));
    const after = Number(paid.headers.get('ratelimit-remaining'));
    expect(after).toBeGreaterThanOrEqual(before - 3);
    expect(after).toBeLessThanOrEqual(before - 3 + earned);
  });

  it('gives each user a budget of their own, and anonymous callers one per address', async () => {
    const spent = userToken('spender');
    for (let i = 0; i < 5; i++) await listOrders(system.gatewayUrl, spent);
    expect((await listOrders(system.gatewayUrl, spent)).status).toBe(429);
    expect((await listOrders(system.gatewayUrl, userToken('bystander'))).status).toBe(200);

    const anonymous = [];
    for (let i = 0; i < 5; i++) anonymous.push((await listOrders(system.gatewayUrl)).status);
    expect(anonymous).toEqual([200, 200, 200, 200, 429]);
    expect((await listOrders(system.gatewayUrl, userToken('signed-in'))).status).toBe(200);
  });

  it('shares one budget between two gateway processes on the same Redis', async () => {
    const token = userToken('roamer');
    const statuses = [];
    for (const url of [
      system.gatewayUrl,
      urlOf(twin),
      system.gatewayUrl,
      urlOf(twin),
      urlOf(twin),
    ]) {
      statuses.push((await listOrders(url, token)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('never admits more than the bucket holds when 40 requests arrive at once through both gateways', async () => {
    const token = userToken('crowd');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        listOrders(i % 2 === 0 ? system.gatewayUrl : urlOf(twin), token),
      ),
    );
    const refilled = Math.floor((Date.now() - started) / 1000);
    const admitted = results.filter((r) => r.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(4);
    expect(admitted).toBeLessThanOrEqual(4 + refilled);
    expect(results.filter((r) => r.status === 429)).toHaveLength(40 - admitted);
  });

  it('refuses a flood of forged tokens from one address with 429 before verifying them, and serves other addresses', async () => {
    // A valid header (known key id) and claims, with the signature of another token: each one
    // the auth guard sees costs a signature check, then 401.
    const forged = (i: number) => {
      const [header, payload] = userToken(`forger-${i}`).split('.');
      return `${header}.${payload}.${userToken('someone-else').split('.')[2]}`;
    };
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const started = Date.now();
    const flood = [];
    for (let i = 0; i < 20; i++) {
      flood.push(
        await request(urlOf(perAddress), 'GET', '/api/orders', {
          token: forged(i),
          headers: from('192.0.2.66'),
        }),
      );
    }
    const earned = Math.floor((Date.now() - started) / 1000);
    const statuses = flood.map((r) => r.status);
    const verifiedCount = statuses.filter((status) => status === 401).length;
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(verifiedCount).toBeLessThanOrEqual(5 + earned);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20 - verifiedCount);
    expect(flood.find((r) => r.status === 429)?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    // Only the requests answered 401 reached the verifier: one authn_token_invalid line each; the
    // others were refused before it, each with an excess_rate_limit_exceeded line.
    const events = (output: string) =>
      output
        .split('\n')
        .filter((line) => line.includes('"audit":') && line.includes('192.0.2.66'))
        .map((line) => (JSON.parse(line) as { audit: { event: string } }).audit.event);
    await perAddress.waitForOutput((output) => events(output).length >= 20);
    const written = events(perAddress.output);
    expect(written.filter((event) => event === 'authn_token_invalid')).toHaveLength(verifiedCount);
    expect(written.filter((event) => event === 'excess_rate_limit_exceeded')).toHaveLength(
      20 - verifiedCount,
    );

    const other = await request(urlOf(perAddress), 'GET', '/api/orders', {
      token: userToken('neighbour'),
      headers: from('192.0.2.67'),
    });
    expect(other.status).toBe(200);
  });

  describe('when Redis goes away', () => {
    let redis: Redis;

    beforeAll(() => {
      redis = new Redis(ownRedis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    });
    afterAll(() => redis.disconnect());

    const bucketsInRedis = async () => {
      await redis.connect().catch(() => undefined);
      return (await redis.keys(`${prefix}rate-limit:*`)).length;
    };

    it('limits per replica (local) or refuses with 503 (reject), at once, and goes back to Redis when it returns', async () => {
      // The gateway connects to Redis lazily; under load its first call may still take the local path.
      const warmUp = Date.now() + 10_000;
      do {
        expect((await listOrders(urlOf(failOpen), userToken('before'))).status).toBe(200);
      } while ((await bucketsInRedis()) === 0 && Date.now() < warmUp);
      expect(await bucketsInRedis()).toBe(1);
      redis.disconnect();

      // One token for the five: the local bucket earns 1 a second, and a fresh token per request
      // (verified, and exchanged at the issuer for order's audience) let a busy CI machine take
      // over a second once, and the fifth request was admitted with an earned token.
      const during = userToken('during');
      await ownRedis.stop();
      const started = Date.now();
      const open = [];
      for (let i = 0; i < 5; i++) {
        open.push((await listOrders(urlOf(failOpen), during)).status);
      }
      expect(open).toEqual([200, 200, 200, 200, 429]);
      const closed = await listOrders(urlOf(failClosed), userToken('during'));
      expect(closed.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(3_000);
      // Its probes are limited per replica instead: liveness failing would only restart it.
      for (const probe of ['/healthz', '/readyz']) {
        expect((await request(urlOf(failClosed), 'GET', probe)).status).toBe(200);
      }

      await ownRedis.restart();
      const recovered = await eventually(
        () => listOrders(urlOf(failClosed), userToken('after')),
        (answer) => answer.status === 200,
        10_000,
      );
      expect(recovered.status).toBe(200); // the fail-closed gateway recovered within 10 s
      expect((await listOrders(urlOf(failOpen), userToken('after-open'))).status).toBe(200);
      redis = new Redis(ownRedis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      expect(await bucketsInRedis()).toBe(2); // after (fail-closed) and after-open: shared again
    });
  });
});
