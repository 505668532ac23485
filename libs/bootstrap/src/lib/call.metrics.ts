import type { FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';

/** Seconds: from 5 ms (a cache hit) to 10 s (the default request timeout). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const httpDuration = new Histogram({
  name: 'acme_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method, route template (never the raw URL) and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: LATENCY_BUCKETS,
});

/**
 * Times an answered request under its route template (`/api/orders/:id`);
 * a request no route matched counts as `unmatched`, so that scanners probing
 * random paths cannot create a series each.
 */
export function recordHttpRequest(request: FastifyRequest, reply: FastifyReply): void {
  httpDuration.observe(
    {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    },
    reply.elapsedTime / 1000,
  );
}
