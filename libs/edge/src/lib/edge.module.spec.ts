import { Controller, Get, Global, Injectable, Logger, Module } from '@nestjs/common';
import type { CanActivate, ExecutionContext, INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyRequest } from 'fastify';
import { AUTH_OPTIONS, Public } from '@acme/auth';
import { metricValue } from '@acme/transport/testing';
import { IpAllow, RateLimit } from './edge.decorators';
import { RedisServer } from './testing/redis-server';
import { EdgeModule } from './edge.module';
import type { EdgeOptions } from './edge.options';

// Public, as real auth would let a caller without a token through only there; the stand-in
// guard below still names a principal from a header, to key budgets by.
@Public()
@Controller()
class RoutesController {
  @Get('default-a') defaultA() {
    return 'a';
  }

  @Get('default-b') defaultB() {
    return 'b';
  }

  @Get('expensive') @RateLimit({ cost: 2 }) expensive() {
    return 'expensive';
  }

  @Get('own-budget') @RateLimit({ replenishRate: 0.01, burstCapacity: 1 }) ownBudget() {
    return 'own';
  }

  @Get('local') @IpAllow('local') local() {
    return 'local';
  }

  @Get('office') @IpAllow('office') office() {
    return 'office';
  }

  @Get('probe') @RateLimit({ onStoreFailure: 'local' }) probe() {
    return 'up';
  }
}

const options: EdgeOptions = {
  rateLimit: {
    replenishRate: 0.01,
    burstCapacity: 4,
    onStoreFailure: 'local',
    perAddress: { replenishRate: 0.01, burstCapacity: 20 },
  },
  ipLists: { local: ['127.0.0.0/8', '::1'], office: ['203.0.113.0/24'] },
};

/** Stands in for the auth guards: the principal they would have verified, from a test header. */
@Injectable()
class TestPrincipalGuard implements CanActivate {
  /** Requests that reached it: each would have cost a signature check. */
  static verified = 0;

  canActivate(context: ExecutionContext): boolean {
    TestPrincipalGuard.verified++;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: unknown }>();
    const principal = request.headers['x-test-principal'];
    if (typeof principal === 'string') request.user = JSON.parse(principal);
    return true;
  }
}

/** In the place of AuthModule: between EdgeModule's two imports, as in the gateway. */
@Module({ providers: [{ provide: APP_GUARD, useClass: TestPrincipalGuard }] })
class TestAuthModule {}

/** A route only an authenticated caller reaches. */
@Controller()
class PrivateController {
  @Get('private') private() {
    return 'private';
  }
}

/** AuthModule's options in the benchmark without security, where no auth guard runs. */
@Global()
@Module({
  providers: [{ provide: AUTH_OPTIONS, useValue: { benchmarkInsecure: true } }],
  exports: [AUTH_OPTIONS],
})
class InsecureBenchmarkAuthModule {}

async function start(
  controller: new () => unknown,
  edge: EdgeOptions,
  { callerRateLimit = 'after' as 'after' | 'before' | 'missing', benchmarkInsecure = false } = {},
): Promise<INestApplication> {
  @Module({
    imports: [
      ...(benchmarkInsecure ? [InsecureBenchmarkAuthModule] : []),
      EdgeModule.forRootAsync({ useFactory: () => edge }),
      ...(callerRateLimit === 'before' ? [EdgeModule.callerRateLimit()] : []),
      TestAuthModule,
      ...(callerRateLimit === 'after' ? [EdgeModule.callerRateLimit()] : []),
    ],
    controllers: [controller, PrivateController],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe(EdgeModule.name, () => {
  let app: INestApplication;
  let base: string;

  beforeEach(async () => {
    app = await start(RoutesController, options);
    base = await app.getUrl();
  });
  afterEach(() => app.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers });

  describe('rate limits', () => {
    /** What the refusals wrote through Nest's logger under the `audit` key. */
    const audits = () =>
      warn.mock.calls.flatMap(([line]) =>
        typeof line === 'object' && line !== null && 'audit' in line ? [line.audit] : [],
      );
    let warn: jest.SpyInstance;
    beforeEach(() => (warn = jest.spyOn(Logger.prototype, 'warn')));
    afterEach(() => warn.mockRestore());

    it('shares one default budget across routes, and answers 429 with Retry-After and RateLimit-* headers when it is spent', async () => {
      const statuses = [];
      for (const path of ['/default-a', '/default-b', '/default-a', '/default-b', '/default-a']) {
        statuses.push(await get(path));
      }
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
      expect(statuses[0].headers.get('ratelimit-limit')).toBe('4');
      expect(statuses[0].headers.get('ratelimit-remaining')).toBe('3');
      expect(statuses[3].headers.get('ratelimit-remaining')).toBe('0');
      const refused = statuses[4];
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(await refused.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(audits()).toEqual([
        {
          event: 'excess_rate_limit_exceeded',
          principal: 'anonymous',
          action: 'GET /default-a',
          reason: expect.stringMatching(/^bucket default:ip:/),
          requestId: undefined,
          traceId: undefined,
          from: '127.0.0.1',
        },
      ]);
    });

    it('counts each 429 under its route template and the limit that refused it', async () => {
      const rejections = (route: string, stage: string) =>
        metricValue('acme_rate_limit_rejections_total', { route, stage });
      const before = await Promise.all([
        rejections('/default-a', 'per_principal'),
        rejections('/default-b', 'per_principal'),
        rejections('/default-b', 'per_address'),
      ]);
      await app.close();
      app = await start(RoutesController, {
        ...options,
        rateLimit: { ...options.rateLimit, perAddress: { replenishRate: 0.01, burstCapacity: 6 } },
      });
      base = await app.getUrl();

      const statuses = [];
      for (const path of ['/default-a', '/default-a', '/default-a', '/default-a', '/default-a']) {
        statuses.push((await get(path)).status);
      }
      statuses.push((await get('/default-b')).status, (await get('/default-b')).status);

      expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429]);
      // The 6th request still fits the address's budget, not the caller's; the 7th fits neither.
      expect(
        await Promise.all([
          rejections('/default-a', 'per_principal'),
          rejections('/default-b', 'per_principal'),
          rejections('/default-b', 'per_address'),
        ]),
      ).toEqual([before[0] + 1, before[1] + 1, before[2] + 1]);
    });

    it('keys a user by sub, a service by client_id, and anyone else by address', async () => {
      const as = (principal: object) => ({ 'x-test-principal': JSON.stringify(principal) });
      const alice = as({ kind: 'user', subject: 'alice', clientId: 'web' });
      const aliceElsewhere = as({ kind: 'user', subject: 'alice', clientId: 'cli' });
      const robot = as({ kind: 'service', subject: 'svc-1', clientId: 'robot' });
      const robotAgain = as({ kind: 'service', subject: 'svc-2', clientId: 'robot' });
      for (let i = 0; i < 2; i++) {
        expect((await get('/default-a', alice)).status).toBe(200);
        expect((await get('/default-a', aliceElsewhere)).status).toBe(200);
        expect((await get('/default-a', robot)).status).toBe(200);
        expect((await get('/default-a', robotAgain)).status).toBe(200);
      }
      expect((await get('/default-a', alice)).status).toBe(429);
      expect((await get('/default-a', robot)).status).toBe(429);
      expect((await get('/default-a')).status).toBe(200);
      expect(audits().map((audit) => audit.principal)).toEqual(['user:alice', 'service:robot']);
    });

    it('charges a route its @RateLimit cost from the default budget', async () => {
      expect((await get('/expensive')).status).toBe(200);
      expect((await get('/expensive')).status).toBe(200);
      expect((await get('/default-a')).status).toBe(429);
    });

    it('refuses an address that spent its budget with 429 before any token is verified, whoever it claims to be', async () => {
      await app.close();
      app = await start(RoutesController, {
        ...options,
        rateLimit: { ...options.rateLimit, perAddress: { replenishRate: 0.01, burstCapacity: 3 } },
      });
      base = await app.getUrl();
      TestPrincipalGuard.verified = 0;
      const responses = [];
      for (let i = 0; i < 5; i++) {
        const principal = { kind: 'user', subject: `forged-${i}`, clientId: 'web' };
        responses.push(await get('/default-a', { 'x-test-principal': JSON.stringify(principal) }));
      }
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
      expect(Number(responses[3].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(TestPrincipalGuard.verified).toBe(3);
      // Refused before any token was verified: nobody is named, whatever the request claimed.
      expect(audits()).toEqual([
        expect.objectContaining({
          principal: 'anonymous',
          reason: 'bucket address:127.0.0.1 is empty',
        }),
        expect.objectContaining({
          principal: 'anonymous',
          reason: 'bucket address:127.0.0.1 is empty',
        }),
      ]);
    });

    it('gives a route with its own @RateLimit rate a budget of its own', async () => {
      expect((await get('/own-budget')).status).toBe(200);
      const second = await get('/own-budget');
      expect(second.status).toBe(429);
      expect(second.headers.get('ratelimit-limit')).toBe('1');
      expect((await get('/default-a')).status).toBe(200);
    });
  });

  describe('@IpAllow', () => {
    it('admits a client address in the named list', async () => {
      expect((await get('/local')).status).toBe(200);
    });

    it('answers 403 to an address outside it', async () => {
      const response = await get('/office');
      expect(response.status).toBe(403);
    });

    it('ignores X-Forwarded-For when no proxy is trusted', async () => {
      expect((await get('/office', { 'x-forwarded-for': '203.0.113.5' })).status).toBe(403);
    });
  });

  it("lets a route's onStoreFailure override RATE_LIMIT_ON_REDIS_ERROR=reject while Redis is out of reach", async () => {
    const redis = await RedisServer.start();
    await redis.stop();
    const failClosed = await start(RoutesController, {
      ...options,
      rateLimit: {
        ...options.rateLimit,
        onStoreFailure: 'reject',
        redis: { url: redis.url, keyPrefix: 'edge-spec:', timeoutMs: 200 },
      },
    });
    try {
      const url = await failClosed.getUrl();
      expect((await fetch(`${url}/default-a`)).status).toBe(503);
      const probe = await fetch(`${url}/probe`);
      expect(probe.status).toBe(200);
      // Both budgets spent from this replica's buckets: the address's (20), then the caller's (4).
      expect(probe.headers.get('ratelimit-remaining')).toBe('3');
    } finally {
      await failClosed.close();
    }
  });

  it('refuses to start when @IpAllow names a list that is not configured', async () => {
    await app.close();
    await expect(
      start(RoutesController, { ...options, ipLists: { local: ['127.0.0.1'] } }),
    ).rejects.toThrow("RoutesController.office: @IpAllow('office') names no configured IP list");
    app = await start(RoutesController, options);
  });

  it('refuses to start when a @RateLimit cost exceeds the default bucket', async () => {
    await app.close();
    await expect(
      start(RoutesController, {
        ...options,
        rateLimit: { ...options.rateLimit, burstCapacity: 1 },
      }),
    ).rejects.toThrow(
      'RoutesController.expensive: @RateLimit cost 2 exceeds the bucket capacity 1',
    );
    app = await start(RoutesController, options);
  });

  it('refuses to start without the budget per caller', async () => {
    await app.close();
    await expect(start(RoutesController, options, { callerRateLimit: 'missing' })).rejects.toThrow(
      'import EdgeModule.callerRateLimit() after AuthModule',
    );
    app = await start(RoutesController, options);
  });

  it('fails a request, rather than key its caller by address, when the budget per caller runs before authentication', async () => {
    await app.close();
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation();
    try {
      app = await start(RoutesController, options, { callerRateLimit: 'before' });
      base = await app.getUrl();
      const alice = { 'x-test-principal': JSON.stringify({ kind: 'user', subject: 'alice' }) };
      expect((await get('/private', alice)).status).toBe(500);
      expect(error.mock.calls.flat().join('\n')).toContain(
        'CallerRateLimitGuard ran before authentication: import EdgeModule.callerRateLimit() after AuthModule',
      );
      // A public route is keyed by address in either order.
      expect((await get('/default-a')).status).toBe(200);
    } finally {
      error.mockRestore();
    }
  });

  it('keys every caller by address in the benchmark without security, where no auth guard runs', async () => {
    await app.close();
    app = await start(RoutesController, options, {
      callerRateLimit: 'before',
      benchmarkInsecure: true,
    });
    base = await app.getUrl();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get('/private')).status);
    for (let i = 0; i < 2; i++) statuses.push((await get('/default-a')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('keys an authenticated caller of a route that is not public by its principal', async () => {
    const alice = { 'x-test-principal': JSON.stringify({ kind: 'user', subject: 'alice' }) };
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get('/private', alice)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect((await get('/default-a')).status).toBe(200);
  });
});

describe(RateLimit.name, () => {
  it('refuses impossible limits when the route is declared', () => {
    expect(() => RateLimit({ replenishRate: 0 })).toThrow('replenishRate must be > 0');
    expect(() => RateLimit({ burstCapacity: 1.5 })).toThrow(
      'burstCapacity must be an integer >= 1',
    );
    expect(() => RateLimit({ burstCapacity: 2, cost: 3 })).toThrow(
      'cost must not exceed burstCapacity',
    );
    expect(() => RateLimit({ onStoreFailure: 'open' as 'local' })).toThrow(
      "onStoreFailure must be 'local' or 'reject'",
    );
  });
});
