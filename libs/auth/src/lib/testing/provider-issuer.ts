import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { IssuerServer } from './issuer-server';

export type ExternalProvider = 'keycloak' | 'auth0' | 'okta';

/** Where each provider serves its metadata, keys and token endpoint, below its host. */
interface ProviderLayout {
  /** The issuer's path: `iss` is the host plus this. */
  issuerPath: string;
  metadataPath: string;
  jwksPath: string;
  tokenPath: string;
  /** Lifetime of the tokens it issues by default, in seconds. */
  lifetimeSec: number;
}

const LAYOUTS: Record<ExternalProvider, ProviderLayout> = {
  // https://www.keycloak.org/securing-apps/oidc-layers (Keycloak 26): realm endpoints;
  // access tokens live 300 s by default (realm "Access Token Lifespan").
  keycloak: {
    issuerPath: '/realms/acme',
    metadataPath: '/realms/acme/.well-known/openid-configuration',
    jwksPath: '/realms/acme/protocol/openid-connect/certs',
    tokenPath: '/realms/acme/protocol/openid-connect/token',
    lifetimeSec: 300,
  },
  // https://auth0.com/docs/get-started/applications/configure-applications-with-oidc-discovery:
  // the issuer is `https://<tenant>/`, with its trailing slash; APIs default to 86400 s.
  auth0: {
    issuerPath: '/',
    metadataPath: '/.well-known/openid-configuration',
    jwksPath: '/.well-known/jwks.json',
    tokenPath: '/oauth/token',
    lifetimeSec: 86_400,
  },
  // https://developer.okta.com/docs/reference/api/oidc/ (custom authorization server
  // `default`): RFC 8414 metadata, /v1/keys, /v1/token; access tokens live 1 h by default.
  okta: {
    issuerPath: '/oauth2/default',
    metadataPath: '/oauth2/default/.well-known/oauth-authorization-server',
    jwksPath: '/oauth2/default/v1/keys',
    tokenPath: '/oauth2/default/v1/token',
    lifetimeSec: 3_600,
  },
};

export interface ProviderUser {
  /** The login name (Keycloak `preferred_username`, Okta `sub`); the other ids derive from it. */
  username: string;
  roles: string[];
  scope: string;
  /** The client the user signed in with; `web` by default. */
  clientId?: string;
}

/**
 * A stand-in for Keycloak, Auth0 or Okta in tests: serves discovery, JWKS and
 * the client credentials grant at that provider's paths, over HTTP on
 * 127.0.0.1, and signs RS256 tokens with exactly the header and claims the
 * provider's documentation shows for its default configuration.
 *
 * @example
 * const keycloak = await ProviderIssuer.start('keycloak', { audience: 'acme-api', clients: { 'acme-payment': secret } });
 * const token = keycloak.userToken({ username: 'alice', roles: ['user'], scope: 'orders:read' });
 */
export class ProviderIssuer {
  private readonly kid = randomBytes(16).toString('base64url');
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly layout: ProviderLayout;

  private constructor(
    readonly provider: ExternalProvider,
    private readonly server: IssuerServer,
    readonly audience: string,
    clients: Readonly<Record<string, string>>,
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    }));
    this.layout = LAYOUTS[provider];
    server.serve({
      paths: {
        metadata: this.layout.metadataPath,
        jwks: this.layout.jwksPath,
        token: this.layout.tokenPath,
      },
      metadata: () => ({
        issuer: this.issuer,
        jwks_uri: `${server.origin}${this.layout.jwksPath}`,
        token_endpoint: `${server.origin}${this.layout.tokenPath}`,
        id_token_signing_alg_values_supported: ['RS256'],
      }),
      jwks: () => ({
        keys: [
          { ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' },
        ],
      }),
      clients,
      clientCredentials: (clientId, form) =>
        // Auth0 issues a client-credentials token only for the API named by `audience`.
        this.provider === 'auth0' && form.get('audience') !== this.audience
          ? [403, { error: 'access_denied', error_description: 'no audience' }]
          : [
              200,
              {
                access_token: this.serviceToken(clientId, form.get('scope') ?? ''),
                token_type: 'Bearer',
                expires_in: this.layout.lifetimeSec,
              },
            ],
    });
  }

  /**
   * @param options.clients client id -> secret of the confidential clients that
   *   may use the client credentials grant (HTTP Basic authentication).
   */
  static async start(
    provider: ExternalProvider,
    options: { audience: string; clients?: Record<string, string> },
  ): Promise<ProviderIssuer> {
    return new ProviderIssuer(
      provider,
      await IssuerServer.listen(),
      options.audience,
      options.clients ?? {},
    );
  }

  /** The exact `iss`: Auth0's ends with a slash. */
  get issuer(): string {
    return `${this.server.origin}${this.layout.issuerPath}`;
  }

  /** An access token of a user who signed in through a client (authorization code flow). */
  userToken(user: ProviderUser, claims: Record<string, unknown> = {}): string {
    const clientId = user.clientId ?? 'web';
    const now = Math.floor(Date.now() / 1000);
    const times = { iat: now, exp: now + this.layout.lifetimeSec };
    switch (this.provider) {
      // Keycloak 26, realm "acme", an audience mapper adding the API to `aud`
      // (https://www.keycloak.org/docs/latest/server_admin/#_audience): `azp`, never
      // `client_id`; roles in realm_access / resource_access; `typ: JWT` header.
      case 'keycloak':
        return this.sign({
          ...times,
          auth_time: now,
          jti: randomUUID(),
          iss: this.issuer,
          aud: [this.audience, 'account'],
          sub: uuidOf(user.username),
          typ: 'Bearer',
          azp: clientId,
          sid: randomUUID(),
          acr: '1',
          'allowed-origins': ['http://localhost:4200'],
          realm_access: { roles: ['default-roles-acme', 'offline_access', ...user.roles] },
          resource_access: { account: { roles: ['manage-account', 'view-profile'] } },
          scope: `openid profile email ${user.scope}`,
          email_verified: true,
          preferred_username: user.username,
          email: `${user.username}@acme.example`,
          ...claims,
        });
      // Auth0 "Auth0 token profile", the default
      // (https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles): `azp`,
      // no `jti`, no `client_id`; roles from a post-login Action as a namespaced claim
      // (https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims).
      case 'auth0':
        return this.sign({
          iss: this.issuer,
          sub: `auth0|${uuidOf(user.username).replaceAll('-', '').slice(0, 24)}`,
          aud: [this.audience, `${this.issuer}userinfo`],
          ...times,
          azp: clientId,
          scope: `openid profile ${user.scope}`,
          'https://acme.example/roles': user.roles,
          ...claims,
        });
      // Okta custom authorization server
      // (https://developer.okta.com/docs/reference/api/oidc/#access-token): no `typ` header,
      // `cid`, `uid`, an `scp` array; groups from a "groups" claim added to the server.
      case 'okta':
        return this.sign({
          ver: 1,
          jti: `AT.${randomBytes(32).toString('base64url')}`,
          iss: this.issuer,
          aud: this.audience,
          ...times,
          cid: clientId,
          uid: `00u${randomBytes(8).toString('hex')}`,
          scp: ['openid', 'profile', ...user.scope.split(' ').filter(Boolean)],
          auth_time: now,
          sub: `${user.username}@acme.example`,
          groups: ['Everyone', ...user.roles],
          ...claims,
        });
    }
  }

  /** A client-credentials token of a confidential client (a service acting for itself). */
  serviceToken(clientId: string, scope: string, claims: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const times = { iat: now, exp: now + this.layout.lifetimeSec };
    switch (this.provider) {
      // Keycloak service account
      // (https://www.keycloak.org/docs/latest/server_admin/#_service_accounts): the
      // `service-account-<client id>` user; `client_id` comes from the "service_account"
      // client scope, `azp` is the client as in every token.
      case 'keycloak':
        return this.sign({
          ...times,
          jti: randomUUID(),
          iss: this.issuer,
          aud: this.audience,
          sub: uuidOf(`service-account-${clientId}`),
          typ: 'Bearer',
          azp: clientId,
          acr: '1',
          realm_access: { roles: ['default-roles-acme', 'offline_access'] },
          scope: `${scope} profile email`,
          clientHost: '127.0.0.1',
          email_verified: false,
          preferred_username: `service-account-${clientId}`.toLowerCase(),
          clientAddress: '127.0.0.1',
          client_id: clientId,
          ...claims,
        });
      // Auth0 client credentials flow
      // (https://auth0.com/docs/get-started/authentication-and-authorization-flow/client-credentials-flow):
      // `sub` is `<client id>@clients`, `gty` says so.
      case 'auth0':
        return this.sign({
          iss: this.issuer,
          sub: `${clientId}@clients`,
          aud: this.audience,
          ...times,
          scope,
          gty: 'client-credentials',
          azp: clientId,
          ...claims,
        });
      // Okta client credentials: `sub` is the client id, no `uid`.
      case 'okta':
        return this.sign({
          ver: 1,
          jti: `AT.${randomBytes(32).toString('base64url')}`,
          iss: this.issuer,
          aud: this.audience,
          ...times,
          cid: clientId,
          scp: scope.split(' ').filter(Boolean),
          sub: clientId,
          ...claims,
        });
    }
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** Signs with node:crypto, so the header is exactly the provider's (Okta's has no `typ`). */
  private sign(claims: Record<string, unknown>): string {
    const header =
      this.provider === 'okta'
        ? { kid: this.kid, alg: 'RS256' }
        : { alg: 'RS256', typ: 'JWT', kid: this.kid };
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signingInput = `${encode(header)}.${encode(claims)}`;
    return `${signingInput}.${sign('sha256', Buffer.from(signingInput), this.privateKey).toString('base64url')}`;
  }
}

/** A stable UUID-shaped id for a name, as providers give their users. */
function uuidOf(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
