import { Logger } from '@nestjs/common';
import { PROVIDER_PROFILES } from '@acme/auth';
import { z } from 'zod';
import { parseEnv } from '../env';
import type { ConfigReader } from './config-reader';
import { callerEnv } from './service-calls.env';
import { serviceEnv } from './service.env';
import type { ServiceEnv } from './service.env';
import { authOptionsFrom } from './token-verification.env';

const schema = z.object(serviceEnv('order'));

/** The validated configuration of `env`, read the way ConfigService reads it. */
function configOf(env: Record<string, string>): ConfigReader<ServiceEnv> {
  const values = parseEnv(schema, env) as ServiceEnv;
  return { get: (key) => values[key] };
}

describe('AUTH_ISSUER in production', () => {
  let warnings: jest.SpyInstance;

  beforeEach(() => {
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('refuses a plain http issuer at start-up, naming the key and the opt-out', () => {
    const config = configOf({ NODE_ENV: 'production', AUTH_ISSUER: 'http://auth-server:3001' });

    expect(() => authOptionsFrom(config, 'order')).toThrow(
      /AUTH_ISSUER: http:\/\/auth-server:3001 is plain http with NODE_ENV=production.*AUTH_ALLOW_HTTP_ISSUER=true/,
    );
  });

  it('accepts https, an http issuer behind a mesh, and http outside production', () => {
    const accepted: Record<string, string>[] = [
      { NODE_ENV: 'production', AUTH_ISSUER: 'https://login.acme.example' },
      {
        NODE_ENV: 'production',
        AUTH_ISSUER: 'http://auth-server:3001',
        TRANSPORT_SECURITY: 'mesh',
      },
      { NODE_ENV: 'development', AUTH_ISSUER: 'http://localhost:3001' },
      { NODE_ENV: 'test', AUTH_ISSUER: 'http://127.0.0.1:3001' },
    ];
    for (const env of accepted) {
      expect(authOptionsFrom(configOf(env), 'order').issuer).toBe(env['AUTH_ISSUER']);
    }
    expect(warnings).not.toHaveBeenCalled();
  });

  it('accepts a plain http issuer with AUTH_ALLOW_HTTP_ISSUER=true, with a warning', () => {
    const config = configOf({
      NODE_ENV: 'production',
      AUTH_ISSUER: 'http://auth-server:3001',
      AUTH_ALLOW_HTTP_ISSUER: 'true',
    });

    expect(authOptionsFrom(config, 'order').issuer).toBe('http://auth-server:3001');
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining('cleartext'));
  });
});

describe('AUTH_PROVIDER', () => {
  it('is generic by default: the strict RFC 9068 shape', () => {
    expect(authOptionsFrom(configOf({}), 'order')).toMatchObject({
      provider: 'generic',
      ...PROVIDER_PROFILES.generic,
    });
  });

  it("sets each provider's defaults, every one overridable by its own key", () => {
    expect(authOptionsFrom(configOf({ AUTH_PROVIDER: 'okta' }), 'order')).toMatchObject({
      clientIdClaims: ['cid'],
      allowUntypedTokens: true,
      rolesClaims: ['groups'],
    });
    expect(
      authOptionsFrom(
        configOf({
          AUTH_PROVIDER: 'auth0',
          AUTH_ROLES_CLAIM: 'https://acme.example/roles, permissions',
          AUTH_REQUIRED_CLAIMS: 'iat,jti',
          AUTH_ACCEPT_JWT_TYP: 'false',
          AUTH_CLIENT_ID_CLAIM: 'client_id,azp',
        }),
        'order',
      ),
    ).toMatchObject({
      rolesClaims: ['https://acme.example/roles', 'permissions'],
      requiredClaims: ['iat', 'jti'],
      acceptJwtTyp: false,
      clientIdClaims: ['client_id', 'azp'],
    });
  });

  it('refuses an unknown provider and malformed claim names, naming the key', () => {
    expect(() => configOf({ AUTH_PROVIDER: 'cognito' })).toThrow(/AUTH_PROVIDER/);
    expect(() => configOf({ AUTH_ROLES_CLAIM: 'roles,$where' })).toThrow(/AUTH_ROLES_CLAIM/);
    expect(() => configOf({ AUTH_ROLES_CLAIM: 'https://acme.example/my roles' })).toThrow(
      /AUTH_ROLES_CLAIM/,
    );
  });
});

describe('AUTH_SERVICE_CLIENTS', () => {
  it('maps service names to client ids', () => {
    const config = configOf({ AUTH_SERVICE_CLIENTS: 'payment=0oa1b2c3, order=svc-order@clients' });

    expect(authOptionsFrom(config, 'order').serviceClients).toEqual({
      payment: '0oa1b2c3',
      order: 'svc-order@clients',
    });
  });

  it('is empty by default: each service is the client of its own name', () => {
    expect(authOptionsFrom(configOf({}), 'order').serviceClients).toEqual({});
  });

  it('refuses malformed or ambiguous entries, naming the key', () => {
    for (const value of ['payment', 'payment=a,order=a', 'payment=a,payment=b', 'Pay=a']) {
      expect(() => configOf({ AUTH_SERVICE_CLIENTS: value })).toThrow(/AUTH_SERVICE_CLIENTS/);
    }
  });
});

describe('AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS', () => {
  const callerSchema = z.object({ ...serviceEnv('order'), ...callerEnv('order') });
  const callerConfigOf = (env: Record<string, string>): ConfigReader<ServiceEnv> => {
    const values = parseEnv(callerSchema, env) as ServiceEnv;
    return { get: (key) => values[key] };
  };
  const required = (env: Record<string, string>) =>
    authOptionsFrom(callerConfigOf(env), 'order').requireCertificateBoundTokens;

  it('is true by default with the bundled issuer, mutual TLS and token exchange', () => {
    expect(required({})).toBe(true);
  });

  it('is false by default where tokens cannot be bound or checked', () => {
    expect(required({ AUTH_PROVIDER: 'keycloak' })).toBe(false);
    expect(required({ TRANSPORT_SECURITY: 'mesh' })).toBe(false);
    expect(required({ AUTH_DELEGATION: 'forward' })).toBe(false);
  });

  it('follows an explicit setting', () => {
    expect(required({ AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: 'false' })).toBe(false);
    expect(
      required({ AUTH_PROVIDER: 'keycloak', AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: 'true' }),
    ).toBe(true);
  });

  it('refuses true behind a mesh or with forwarded tokens, naming the key', () => {
    expect(() =>
      required({ TRANSPORT_SECURITY: 'mesh', AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: 'true' }),
    ).toThrow('AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: cannot be true with TRANSPORT_SECURITY=mesh');
    expect(() =>
      required({ AUTH_DELEGATION: 'forward', AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: 'true' }),
    ).toThrow('AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: cannot be true with AUTH_DELEGATION=forward');
  });

  it('refuses a value that is not true or false, naming the key', () => {
    expect(() => required({ AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS: 'yes' })).toThrow(
      'AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS',
    );
  });
});
