import type { FastifyRequest } from 'fastify';
import { DpopException, InvalidTokenException } from '../auth.errors';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { rejection } from '../testing/guard-contexts';
import { InvalidTokenError } from '../token/invalid-token.error';
import {
  HttpSenderConstraint,
  httpCredentialsOf,
  readHttpCredentials,
} from './http-sender-constraint';

const options = (dpop?: AuthOptions['dpop']): AuthOptions => ({
  ...DEFAULT_AUTH_OPTIONS,
  issuer: 'https://issuer.test',
  audience: 'urn:acme:api',
  serviceName: 'gateway',
  trustDomain: 'acme.test',
  ...(dpop ? { dpop } : {}),
});
const request = (headers: Record<string, string> = {}) =>
  ({ method: 'GET', url: '/api/orders', headers }) as unknown as FastifyRequest;
const dpopBound = { sub: 'alice', cnf: { jkt: 'thumbprint-of-alice-key' } };
const unbound = { sub: 'alice' };

describe(readHttpCredentials.name, () => {
  it('reads the Bearer and DPoP schemes in any case', () => {
    expect(readHttpCredentials('Bearer a.b.c')).toEqual({ scheme: 'bearer', token: 'a.b.c' });
    expect(readHttpCredentials('dpop a.b.c')).toEqual({ scheme: 'dpop', token: 'a.b.c' });
  });

  it('reads nothing from another scheme or no header', () => {
    expect(readHttpCredentials('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(readHttpCredentials(undefined)).toBeUndefined();
  });
});

describe(httpCredentialsOf.name, () => {
  it("reads a request's header once, whatever it holds later", () => {
    const request = { headers: { authorization: 'DPoP a.b.c' } };
    const first = httpCredentialsOf(request);
    request.headers.authorization = 'Bearer x.y.z';

    expect(first).toEqual({ scheme: 'dpop', token: 'a.b.c' });
    expect(httpCredentialsOf(request)).toBe(first);
  });

  it('reads nothing, once, from a request without credentials', () => {
    const request: { headers: { authorization?: string } } = { headers: {} };
    expect(httpCredentialsOf(request)).toBeUndefined();
    request.headers.authorization = 'Bearer x.y.z';
    expect(httpCredentialsOf(request)).toBeUndefined();
  });
});

describe(HttpSenderConstraint.name, () => {
  describe('where DPoP is not set up (a service behind the gateway)', () => {
    const constraint = new HttpSenderConstraint(options());

    it('takes a bearer token bound to nothing, at once', () => {
      expect(
        constraint.check(unbound, { scheme: 'bearer', token: 't' }, request()),
      ).toBeUndefined();
    });

    it('refuses a DPoP-bound token: its proof cannot be checked here', () => {
      expect(() =>
        constraint.check(dpopBound, { scheme: 'bearer', token: 't' }, request()),
      ).toThrow(
        new InvalidTokenError('unsupported confirmation method cnf jkt', 'certificate_binding'),
      );
    });

    it('refuses the DPoP scheme', () => {
      expect(() => constraint.check(unbound, { scheme: 'dpop', token: 't' }, request())).toThrow(
        InvalidTokenException,
      );
    });
  });

  describe('with AUTH_DPOP=required', () => {
    const constraint = new HttpSenderConstraint(
      options({
        mode: 'required',
        publicOrigin: 'https://api.acme.example',
        maxAgeSec: 60,
        algorithms: ['ES256'],
      }),
    );

    it('refuses a bearer token bound to nothing, with a DPoP challenge', async () => {
      const refusal = await rejection(() =>
        constraint.check(unbound, { scheme: 'bearer', token: 't' }, request()),
      );

      expect(refusal).toBeInstanceOf(DpopException);
      expect(refusal).toMatchObject({
        code: 'invalid_token',
        message: 'a DPoP-bound token is required',
      });
    });

    it('refuses two DPoP headers', async () => {
      const refusal = await rejection(() =>
        constraint.check(
          dpopBound,
          { scheme: 'dpop', token: 't' },
          request({ dpop: 'a.b.c, d.e.f' }),
        ),
      );

      expect(refusal).toMatchObject({
        code: 'invalid_dpop_proof',
        message: 'one DPoP proof header is required',
      });
    });
  });
});
