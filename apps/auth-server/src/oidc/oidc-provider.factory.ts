import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { httpAuditSubject, writeAuditEvent, type AuditEvent } from '@acme/auth';
import type { Redis } from 'ioredis';
import {
  errors,
  Provider,
  type Client,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { NEST_ROUTES } from '../app.constants';
import { certificateOfClient } from '../mtls/client-certificate';
import { MTLS_TOKEN_PATH } from '../mtls/mtls-listener';
import { countTokenReuse } from '../auth-server.metrics';
import type { AuthServerConfig } from '../config';
import { PAGE_HEADERS, renderErrorPage } from '../interaction/pages';
import type { UsersService } from '../users/users.service';
import { loadClients } from './clients';
import { loadCookieKeys } from './cookie-keys';
import { RedisAdapter } from './redis.adapter';
import { OIDC_SCOPES } from './scope-policy';
import { loadSigningKeys, signingKeyAt, toProviderJwks } from './signing-keys';
import { registerTokenExchange, type ExchangedClaims } from './token-exchange';
import type { ServiceClientMetadata } from './token-exchange';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A refresh token family (the first token and all its rotations) lives this long at most. */
const REFRESH_TOKEN_LIFETIME = 1 * DAY;

/** Introspection and revocation: a client may only look at or revoke its own tokens. */
const ownTokensOnly = (_ctx: unknown, client: Client, token: { clientId?: string }): boolean =>
  token.clientId === client.clientId;

/**
 * Builds the oidc-provider instance: every protocol decision of the auth server is in this object.
 * oidc-provider implements the protocol; we only supply keys, clients, users and policy.
 */
export function createOidcProvider(
  config: ConfigService<AuthServerConfig, true>,
  users: UsersService,
  redis: Redis | null,
): Provider {
  const logger = new Logger('OidcProvider');
  const production = config.get('production', { infer: true });
  const issuer = config.get('issuer', { infer: true });
  const audience = config.get('apiAudience', { infer: true });
  const accessTokenTtl = config.get('accessTokenTtl', { infer: true });
  const exchangedTokenTtl = config.get('exchangedTokenTtl', { infer: true });
  const signingAlg = config.get('tokenSigningAlg', { infer: true });
  const keysDir = config.get('keysDir', { infer: true });

  const signingKeysFile = config.get('signingKeysFile', { infer: true });
  const signingKeys = loadSigningKeys(signingKeysFile, { generate: !production });
  if (!signingKeyAt(signingKeys, signingAlg)) {
    throw new Error(`${signingKeysFile} has no current ${signingAlg} key.`);
  }
  // Chosen per token, so the next key of a rotation signs from its activation time, no restart
  // needed. ID tokens take the first key of the JWKS order, fixed at start-up.
  const signingKid = (): string | undefined => signingKeyAt(signingKeys, signingAlg)?.kid;
  if (!redis) {
    logger.warn('REDIS_URL is not set: sessions and tokens live in this process only (dev only).');
  }
  /** Extra claims of the tokens the token-exchange grant issues, by token. */
  const exchanged = new WeakMap<object, ExchangedClaims>();

  /**
   * The API's audience for every client; a service's callees' audiences for that service alone
   * (client credentials, token exchange). Any other resource is refused.
   */
  const resourceServerInfo = (resource: string, client: Client) => {
    const { call_audiences: callAudiences = [] } = client.metadata() as ServiceClientMetadata;
    if (resource !== audience && !callAudiences.includes(resource)) {
      throw new errors.InvalidTarget();
    }
    const apiScopes = client.metadata().api_scopes as string[] | undefined;
    return {
      scope: (apiScopes ?? []).join(' '),
      audience: resource,
      accessTokenTTL: accessTokenTtl,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: signingAlg, kid: signingKid() } },
    };
  };

  const mtls = config.get('mtls', { infer: true });
  const clients = loadClients(
    config.get('clientsFile', { infer: true }),
    config.get('clientSecretsDir', { infer: true }),
    { generate: !production },
  );
  /** The certificate a client's tokens are bound to: one of its own service, or a refusal. */
  const boundCertificate = (ctx: KoaContextWithOIDC) =>
    mtls ? certificateOfClient(ctx, mtls.trustDomain) : undefined;

  const configuration: Configuration = {
    adapter: redis ? (name: string) => new RedisAdapter(name, redis) : undefined,
    // With the mutual-TLS listener, every service client's tokens are bound to its certificate
    // (RFC 8705): a token request of a service over plain HTTP is refused.
    clients: mtls ? clients.map(bindServiceTokens) : clients,
    jwks: toProviderJwks(signingKeys),
    cookies: { keys: loadCookieKeys(config.get('cookieKeys', { infer: true }), keysDir) },
    extraClientMetadata: {
      properties: ['first_party', 'api_scopes', 'resource_audience', 'call_audiences', 'service'],
    },

    scopes: [...OIDC_SCOPES],
    // `roles` in the ID token lets a client show them; authorization still reads the access token.
    claims: { openid: ['sub'], profile: ['name', 'roles'] },
    // No userinfo endpoint, so the claims of `profile` go in the ID token.
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => {
      const user = users.findByUsername(sub);
      return (
        user && { accountId: sub, claims: () => ({ sub, name: user.name, roles: user.roles }) }
      );
    },
    // RFC 9068 access tokens carry the user's roles for the resource servers' role checks.
    // An exchanged token carries the roles of the token it replaces, not the user's current ones.
    extraTokenClaims: (_ctx, token) => {
      const exchange = exchanged.get(token);
      if (exchange) return { ...exchange };
      const user = token.kind === 'AccessToken' ? users.findByUsername(token.accountId) : undefined;
      return user && { roles: user.roles };
    },

    responseTypes: ['code'],
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    // A used refresh token is replaced by a new one; presenting a used one again revokes the grant.
    rotateRefreshToken: true,
    clientDefaults: { id_token_signed_response_alg: signingAlg },
    // The proof algorithms the gateway checks (no EdDSA there).
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'PS256'] },
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,

    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: false },
      // A public client that sends a DPoP proof gets a token bound to its key (cnf.jkt, RFC 9449),
      // which the gateway accepts only with a fresh proof by that key.
      dPoP: { enabled: true },
      mTLS: {
        enabled: mtls !== undefined,
        certificateBoundAccessTokens: true,
        getCertificate: boundCertificate,
      },
      resourceIndicators: {
        enabled: true,
        // Clients need not send `resource`: every access token is for the API.
        defaultResource: () => audience,
        getResourceServerInfo: (_ctx, resource, client) => resourceServerInfo(resource, client),
      },
    },

    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      IdToken: accessTokenTtl,
      AuthorizationCode: MINUTE,
      Interaction: 10 * MINUTE,
      Session: 8 * HOUR,
      Grant: REFRESH_TOKEN_LIFETIME + HOUR, // outlives the refresh tokens issued under it
      // A rotated token keeps the family's expiry, so rotation cannot extend a stolen token forever.
      RefreshToken: (ctx) =>
        ctx.oidc.entities.RotatedRefreshToken?.remainingTTL ?? REFRESH_TOKEN_LIFETIME,
    },

    interactions: {
      url: (_ctx, interaction) => `/${NEST_ROUTES.interaction}/${interaction.uid}`,
    },
    renderError: (ctx, out) => {
      ctx.set(PAGE_HEADERS);
      ctx.body = renderErrorPage(out.error, out.error_description);
    },
  };

  const provider = new Provider(issuer, configuration);
  registerTokenExchange(provider, {
    issuer,
    signingKeys,
    ttl: exchangedTokenTtl,
    resourceServer: (_ctx, target, client) =>
      Promise.resolve(new provider.ResourceServer(target, resourceServerInfo(target, client))),
    exchanged,
    getCertificate: boundCertificate,
  });
  if (mtls) {
    // RFC 8705 5: where a client that authenticates its connection with a certificate asks for tokens.
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' && ctx.status === 200) {
        (ctx.body as Record<string, unknown>)['mtls_endpoint_aliases'] = {
          token_endpoint: `${mtls.url}${MTLS_TOKEN_PATH}`,
        };
      }
    });
  }
  provider.proxy = config.get('trustProxy', { infer: true });
  // Errors only, by message: requests, tokens and cookies are never logged.
  provider.on('server_error', (_ctx, error: Error) => logger.error(error.message, error.stack));
  provider.on('grant.revoked', () =>
    logger.warn('Grant revoked (logout, revocation or refresh token reuse).'),
  );
  provider.on('grant.error', (ctx, error) => {
    const reuse = tokenReuse(ctx, error);
    if (!reuse) return;
    writeAuditEvent(reuse);
    countTokenReuse();
  });
  return provider;
}

/** A confidential client is a service: its tokens are bound to its certificate. */
function bindServiceTokens<T extends Record<string, unknown>>(client: T): T {
  return client['token_endpoint_auth_method'] === 'none'
    ? client
    : { ...client, tls_client_certificate_bound_access_tokens: true };
}

/**
 * The `authn_token_reuse` audit event of a token request refused because its refresh token or
 * code was used before (by oidc-provider, or by `RedisAdapter.consume` for parallel redemptions):
 * the grant is revoked by then.
 */
export function tokenReuse(ctx: KoaContextWithOIDC, error: Error): AuditEvent | undefined {
  const detail = (error as { error_detail?: unknown }).error_detail;
  if (!(error instanceof errors.InvalidGrant) || typeof detail !== 'string') return undefined;
  if (!detail.endsWith('already used')) return undefined;
  const { Account, AuthorizationCode, RefreshToken } = ctx.oidc.entities;
  const accountId = Account?.accountId ?? RefreshToken?.accountId ?? AuthorizationCode?.accountId;
  const request = {
    method: ctx.method,
    originalUrl: ctx.originalUrl,
    ip: ctx.ip,
    headers: ctx.headers,
  };
  return {
    event: 'authn_token_reuse',
    ...httpAuditSubject(request, accountId ? `user:${accountId}` : 'anonymous'),
    reason: `${detail}: grant revoked`,
  };
}
