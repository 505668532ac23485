import { ForbiddenException, Logger, UnauthorizedException } from '@nestjs/common';
import { metricValue } from '@acme/transport/testing';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { InsufficientScopeException, InvalidTokenException } from '../auth.errors';
import { TestIssuer } from '../testing/test-issuer';
import { AccessTokenVerifier } from '../token/access-token.verifier';
import { JwksCache } from '../token/jwks.cache';
import { countDenial, denialLabels } from './auth.metrics';

const AUDIENCE = 'urn:acme:orders';

describe('auth metrics', () => {
  describe(countDenial.name, () => {
    it.each([
      [new InvalidTokenException(), 'missing_token', ''],
      [new InvalidTokenException('token expired', 'expired'), 'invalid_token', 'expired'],
      [new InsufficientScopeException('requires scope: orders:write'), 'insufficient_scope', ''],
      [new InsufficientScopeException('requires any of roles: admin', 'role'), 'role', ''],
      [new InsufficientScopeException('requires owner', 'policy'), 'policy', ''],
      [new InsufficientScopeException('no', 'caller_not_allowed'), 'caller_not_allowed', ''],
      [new UnauthorizedException(), 'unauthorized', ''],
      [new ForbiddenException('requests from 10.0.0.1 are not allowed'), 'forbidden', ''],
    ])('counts %p as reason %s, check "%s"', async (exception, reason, check) => {
      const labels = { reason, check };
      const before = await metricValue('acme_auth_denials_total', labels);

      countDenial(exception);

      expect(denialLabels(exception)).toEqual(labels);
      expect(await metricValue('acme_auth_denials_total', labels)).toBe(before + 1);
    });
  });

  describe('token verification', () => {
    let issuer: TestIssuer;

    beforeAll(async () => {
      issuer = await TestIssuer.start({ audience: AUDIENCE });
    });

    afterAll(() => issuer.stop());

    function createVerifier(issuerUrl = issuer.issuer): AccessTokenVerifier {
      const options = {
        ...DEFAULT_AUTH_OPTIONS,
        issuer: issuerUrl,
        audience: AUDIENCE,
        serviceName: 'order',
        trustDomain: 'acme.internal',
      };
      return new AccessTokenVerifier(
        options,
        new JwksCache({ issuer: issuerUrl, cooldownMs: 5_000, maxAgeMs: 60_000, timeoutMs: 500 }),
      );
    }

    it('counts a miss for a new token and a hit for the same token again', async () => {
      const verifier = createVerifier();
      const token = issuer.userToken('alice');
      const [hits, misses] = await Promise.all([
        metricValue('acme_token_cache_lookups_total', { result: 'hit' }),
        metricValue('acme_token_cache_lookups_total', { result: 'miss' }),
      ]);

      await verifier.verify(token);
      await verifier.verify(token);
      await verifier.verify(token);

      expect(await metricValue('acme_token_cache_lookups_total', { result: 'miss' })).toBe(
        misses + 1,
      );
      expect(await metricValue('acme_token_cache_lookups_total', { result: 'hit' })).toBe(hits + 2);
    });

    it('counts each JWKS fetch, failed or not', async () => {
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const [ok, failed] = await Promise.all([
        metricValue('acme_jwks_refreshes_total', { result: 'ok' }),
        metricValue('acme_jwks_refreshes_total', { result: 'failed' }),
      ]);

      await createVerifier().verify(issuer.userToken('alice'));
      await expect(
        createVerifier('http://127.0.0.1:1').verify(issuer.userToken('alice')),
      ).rejects.toThrow('issuer keys unavailable');

      expect(await metricValue('acme_jwks_refreshes_total', { result: 'ok' })).toBe(ok + 1);
      expect(await metricValue('acme_jwks_refreshes_total', { result: 'failed' })).toBe(failed + 1);
      jest.restoreAllMocks();
    });
  });
});
