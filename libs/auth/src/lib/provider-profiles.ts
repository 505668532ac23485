/** The OpenID providers whose access-token shapes this library knows. */
export const AUTH_PROVIDERS = ['generic', 'keycloak', 'auth0', 'okta'] as const;

export type AuthProvider = (typeof AUTH_PROVIDERS)[number];

/**
 * Where a provider puts what the verifier reads. Each field is a default that a
 * service's configuration can override; the checks that make a token
 * trustworthy (pinned asymmetric algorithms, exact `iss`, `aud`, `exp`/`nbf`,
 * no key-carrying headers, lifetime cap) are the same for every provider.
 */
export interface ProviderProfile {
  /** Claims that name the client, tried in order: the first present wins. */
  clientIdClaims: readonly string[];
  /** Claims a token must carry besides `iss`, `sub`, `aud`, `exp` and the client claim. */
  requiredClaims: readonly string[];
  /** Also accept `typ: JWT`; `at+jwt` (RFC 9068) is always accepted. */
  acceptJwtTyp: boolean;
  /** Accept tokens whose header has no `typ` at all (Okta signs none). */
  allowUntypedTokens: boolean;
  /**
   * Claims holding roles, merged: a dotted path (`realm_access.roles`), or a
   * claim name taken whole when it contains `://` (Auth0's namespaced claims).
   */
  rolesClaims: readonly string[];
}

/**
 * Each provider's default token shapes, from its documentation:
 * - generic: RFC 9068 (JWT Profile for OAuth 2.0 Access Tokens), as the bundled auth server issues.
 * - keycloak: user tokens carry `azp` (never `client_id`), `typ: JWT`, roles in `realm_access.roles`.
 * - auth0: the default "Auth0" token profile has `azp`, `typ: JWT`, no `jti`, and no roles
 *   unless RBAC adds `permissions` or an Action adds a namespaced claim.
 * - okta: no `typ` header, `cid` and an `scp` array, groups in a `groups` claim.
 */
export const PROVIDER_PROFILES: Readonly<Record<AuthProvider, ProviderProfile>> = {
  generic: {
    clientIdClaims: ['client_id'],
    requiredClaims: ['iat', 'jti'],
    acceptJwtTyp: false,
    allowUntypedTokens: false,
    rolesClaims: ['roles'],
  },
  keycloak: {
    clientIdClaims: ['azp'],
    requiredClaims: ['iat', 'jti'],
    acceptJwtTyp: true,
    allowUntypedTokens: false,
    rolesClaims: ['realm_access.roles'],
  },
  auth0: {
    clientIdClaims: ['azp'],
    requiredClaims: ['iat'],
    acceptJwtTyp: true,
    allowUntypedTokens: false,
    rolesClaims: ['permissions'],
  },
  okta: {
    clientIdClaims: ['cid'],
    requiredClaims: ['iat', 'jti'],
    acceptJwtTyp: false,
    allowUntypedTokens: true,
    rolesClaims: ['groups'],
  },
};

/**
 * Whether a token is a client-credentials token, the client acting for itself,
 * in the provider's own shape. The client id is the one the token names.
 */
export function isServiceToken(
  provider: AuthProvider,
  claims: Readonly<Record<string, unknown>>,
  clientId: string,
): boolean {
  const sub = claims['sub'];
  switch (provider) {
    case 'generic':
      // RFC 9068 section 2.2: without a resource owner, `sub` is the client.
      return sub === clientId;
    case 'keycloak': {
      // Keycloak's service-account user, whose name it derives (lower-cased) from the client id.
      const username = claims['preferred_username'];
      return (
        typeof username === 'string' && username === `service-account-${clientId}`.toLowerCase()
      );
    }
    case 'auth0':
      // Auth0 user ids are `<connection>|<id>`; a client's tokens say `<client id>@clients`.
      return sub === `${clientId}@clients`;
    case 'okta':
      // Okta's client-credentials tokens: `sub` is the `cid`, and there is no user id (`uid`).
      return sub === clientId && claims['uid'] === undefined;
  }
}
