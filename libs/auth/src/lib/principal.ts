/** Who is calling: a user acting through a client, or a service acting for itself. */
export interface Principal {
  readonly kind: 'user' | 'service';
  /** `sub`: the user id, or the client id of a service. */
  readonly subject: string;
  readonly clientId: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** `jti` of the token. */
  readonly tokenId: string;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * A client-credentials token has no user: `sub` is the client itself (RFC 9068
 * section 2.2), or Keycloak's `service-account-*` user.
 */
export function isServiceToken(claims: Readonly<Record<string, unknown>>): boolean {
  const username = claims['preferred_username'];
  return (
    claims['sub'] === claims['client_id'] ||
    (typeof username === 'string' && username.startsWith('service-account-'))
  );
}

/** Reads a dotted claim path such as `realm_access.roles`. */
export function readClaimPath(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  let value: unknown = claims;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Scopes from a space-separated `scope` string (RFC 9068) or an `scp` array. */
export function readScopes(claims: Readonly<Record<string, unknown>>): string[] {
  const scope = claims['scope'];
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  const scp = claims['scp'];
  return Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : [];
}

export function readRoles(claims: Readonly<Record<string, unknown>>, path: string): string[] {
  const roles = readClaimPath(claims, path);
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}
