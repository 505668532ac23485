/**
 * Paths served by Nest controllers. Every other path belongs to oidc-provider (see app.factory.ts),
 * so a new controller must add its first path segment here.
 */
export const NEST_ROUTES = {
  health: 'healthz',
  interaction: 'interaction',
} as const;
