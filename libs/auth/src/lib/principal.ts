/** Who is calling: a user acting through a client, or a service acting for itself. */
export interface Principal {
  readonly kind: 'user' | 'service';
  /** `sub`: the user id, or the client's own subject for a service. */
  readonly subject: string;
  /** The client the token was issued to (`client_id`, `azp` or `cid`, by provider). */
  readonly clientId: string;
  /**
   * For a service token: the service this client is (`AUTH_SERVICE_CLIENTS`,
   * else the client id itself). Undefined for users.
   */
  readonly service?: string;
  /**
   * The services that exchanged this token on its way here (the `act` claim,
   * RFC 8693 4.1), the current actor first: at payment, a user's call through
   * the gateway and order reads `['order', 'gateway']`. Only the first is the
   * party to authorize (`calledVia`); the others are informational. Empty for
   * a token used by the client it was issued to.
   */
  readonly actors: readonly string[];
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** `jti` of the token, when the provider sets one (Auth0's default profile does not). */
  readonly tokenId?: string;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Reads a claim: a dotted path such as `realm_access.roles`, or, when the name
 * contains `://`, the claim of that exact name. Auth0 requires custom claims to
 * be namespaced with a URL (`https://acme.example/roles`), whose dots are part
 * of the name, not a path.
 */
export function readClaim(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (name.includes('://')) return Object.hasOwn(claims, name) ? claims[name] : undefined;
  let value: unknown = claims;
  for (const segment of name.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Scopes from a space-separated `scope` string (RFC 9068) or an `scp` array (Okta). */
export function readScopes(claims: Readonly<Record<string, unknown>>): string[] {
  const scope = claims['scope'];
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  const scp = claims['scp'];
  return Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : [];
}

/** The roles found under each of the given claims, merged, without duplicates. */
export function readRoles(
  claims: Readonly<Record<string, unknown>>,
  names: readonly string[],
): string[] {
  const roles = new Set<string>();
  for (const name of names) {
    const value = readClaim(claims, name);
    if (Array.isArray(value)) {
      for (const role of value) if (typeof role === 'string') roles.add(role);
    }
  }
  return [...roles];
}

/** Deeper `act` nesting than any real chain of services: refused as malformed. */
export const MAX_ACTOR_DEPTH = 8;

/**
 * The `sub` of each actor in an `act` claim (RFC 8693 4.1), the current actor
 * first; undefined when the claim is malformed (not an object with a string
 * `sub`, at any depth, or nested beyond {@link MAX_ACTOR_DEPTH}).
 */
export function readActors(act: unknown): string[] | undefined {
  const actors: string[] = [];
  for (let actor = act; actor !== undefined; ) {
    if (typeof actor !== 'object' || actor === null || actors.length >= MAX_ACTOR_DEPTH) {
      return undefined;
    }
    const { sub, act: prior } = actor as { sub?: unknown; act?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) return undefined;
    actors.push(sub);
    actor = prior;
  }
  return actors;
}
