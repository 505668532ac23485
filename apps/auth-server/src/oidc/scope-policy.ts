/** OpenID Connect scopes: they shape the ID token and refresh tokens, not API access. */
export const OIDC_SCOPES = ['openid', 'profile', 'offline_access'] as const;

/** Scopes of the API (the `API_AUDIENCE` resource server). A client gets those in its `api_scopes`. */
export const API_SCOPES = [
  'orders:read',
  'orders:write',
  'admin:read',
  'payments:charge',
  'orders:settle',
] as const;

/** API scopes a user must hold a role for; a user without it does not get the scope. */
const REQUIRED_ROLE: Partial<Record<string, string>> = { 'admin:read': 'admin' };

/**
 * Splits the API scopes a client asked for on behalf of a user into those the user may grant and
 * those that are dropped.
 *
 * @example
 * userScopePolicy(['orders:read', 'admin:read'], ['user']); // { granted: ['orders:read'], rejected: ['admin:read'] }
 */
export function userScopePolicy(
  requested: readonly string[],
  roles: readonly string[],
): { granted: string[]; rejected: string[] } {
  const allowed = (scope: string): boolean => {
    const role = REQUIRED_ROLE[scope];
    return role === undefined || roles.includes(role);
  };
  return {
    granted: requested.filter(allowed),
    rejected: requested.filter((scope) => !allowed(scope)),
  };
}
