import type { FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';

/** Which limit refused: the client address's, before any token is verified, or the caller's. */
export type RateLimitStage = 'per_address' | 'per_principal';

const rejections = new Counter({
  name: 'acme_rate_limit_rejections_total',
  help: 'Requests refused with 429, by route template and stage (per_address before the token is verified, per_principal after).',
  labelNames: ['route', 'stage'] as const,
});

/** Counts a 429 under the request's route template, never its raw URL. */
export function countRateLimitRejection(request: FastifyRequest, stage: RateLimitStage): void {
  rejections.inc({ route: request.routeOptions.url ?? 'unmatched', stage });
}
