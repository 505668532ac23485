import { Redis } from 'ioredis';
import { loginWithPkce } from '../testing/oidc-client';
import { postForm } from '../testing/http';
import { deleteKeysUnder, keysUnder, TEST_REDIS_URL, testKeyPrefix } from '../testing/test-redis';
import { startTestServer } from '../testing/test-server';
import { RedisAdapter } from './redis.adapter';

describe(RedisAdapter.name, () => {
  const prefix = testKeyPrefix();
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  /** Seconds to live of a key (ioredis adds the prefix). */
  const ttl = (key: string) => redis.ttl(key);

  afterAll(async () => {
    await redis.quit();
    await deleteKeysUnder(prefix);
  });

  describe('storage', () => {
    const codes = new RedisAdapter('AuthorizationCode', redis);
    const sessions = new RedisAdapter('Session', redis);

    it('finds what it stored, until the TTL ends', async () => {
      await codes.upsert('c1', { grantId: 'g1', accountId: 'alice' }, 60);
      expect(await codes.find('c1')).toEqual({ grantId: 'g1', accountId: 'alice' });
      expect(await ttl('AuthorizationCode:c1')).toBeGreaterThan(55);
      expect(await codes.find('unknown')).toBeUndefined();
    });

    it('marks an entry consumed, and does not recreate an expired one', async () => {
      await codes.upsert('c2', { grantId: 'g2' }, 60);
      await codes.consume('c2');
      expect(await codes.find('c2')).toEqual({ grantId: 'g2', consumed: expect.any(Number) });

      await expect(codes.consume('expired')).rejects.toMatchObject({
        error: 'invalid_grant',
        error_detail: 'authorization code not found',
      });
      expect(await keysUnder(prefix)).not.toContain('AuthorizationCode:expired');
    });

    it('lets one of parallel consumptions win, and revokes the grant for the others', async () => {
      const grants = new RedisAdapter('Grant', redis);
      const refreshTokens = new RedisAdapter('RefreshToken', redis);
      await grants.upsert('raced', { accountId: 'alice' }, 600);
      await refreshTokens.upsert('r5', { grantId: 'raced' }, 600);
      await codes.upsert('c5', { grantId: 'raced' }, 60);

      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => refreshTokens.consume('r5')),
      );

      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results.filter((result) => result.status === 'rejected')) {
        expect(result.reason).toMatchObject({
          error: 'invalid_grant',
          error_detail: 'refresh token already used',
        });
      }
      expect(await grants.find('raced')).toBeUndefined();
      expect(await refreshTokens.find('r5')).toBeUndefined();
      expect(await codes.find('c5')).toBeUndefined();
    });

    it('finds a session by its uid', async () => {
      await sessions.upsert('s1', { uid: 'u1', accountId: 'bob' }, 60);
      expect(await sessions.findByUid('u1')).toEqual({ uid: 'u1', accountId: 'bob' });
      expect(await ttl('Session:uid:u1')).toBeGreaterThan(55);
    });

    it('deletes every token of a grant, and only those, when the grant is revoked', async () => {
      const refreshTokens = new RedisAdapter('RefreshToken', redis);
      await codes.upsert('c3', { grantId: 'revoked' }, 60);
      await refreshTokens.upsert('r3', { grantId: 'revoked' }, 600);
      await refreshTokens.upsert('r4', { grantId: 'kept' }, 600);
      expect(await ttl('grant:revoked')).toBeGreaterThan(595);

      await refreshTokens.revokeByGrantId('revoked');

      expect(await codes.find('c3')).toBeUndefined();
      expect(await refreshTokens.find('r3')).toBeUndefined();
      expect(await refreshTokens.find('r4')).toEqual({ grantId: 'kept' });
    });
  });

  it('keeps grants across a restart of the auth server', async () => {
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const first = await startTestServer(env);
    const { refresh_token } = await loginWithPkce({
      issuer: first.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid offline_access orders:read',
    });
    await first.close();
    expect(await keysUnder(prefix)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Grant:/),
        expect.stringMatching(/^RefreshToken:/),
      ]),
    );

    const second = await startTestServer({ ...env, PORT: String(first.config.port) }, first.dir);
    try {
      const { status, body } = await postForm(`${second.issuer}/token`, {
        grant_type: 'refresh_token',
        client_id: 'cli',
        refresh_token: refresh_token ?? '',
      });
      expect(status).toBe(200);
      expect(body.access_token).toEqual(expect.any(String));
    } finally {
      await second.close();
    }
  });
});
