import { annotateActiveSpan } from '@acme/telemetry';
import { HttpException } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { InsufficientScopeException, InvalidTokenException } from '../auth.errors';
import type { InsufficientScopeReason } from '../auth.errors';
import type { InvalidTokenCheck } from '../token/invalid-token.error';

/** Why a request or message was refused: a fixed set, never a token, subject or address. */
export type DenialReason =
  | 'missing_token'
  | 'invalid_token'
  | InsufficientScopeReason
  | 'unauthorized'
  | 'forbidden';

const denials = new Counter({
  name: 'acme_auth_denials_total',
  help: 'Requests and messages refused with 401 or 403, by reason; `check` names the failed token check of an invalid_token.',
  labelNames: ['reason', 'check'] as const,
});

const jwksRefreshes = new Counter({
  name: 'acme_jwks_refreshes_total',
  help: "Fetches of the issuer's signing keys (JWKS), by result (ok, failed).",
  labelNames: ['result'] as const,
});

/**
 * Counted in plain numbers, handed to prom-client when scraped: every hop of every call
 * looks its token up, and a labelled `inc()` hashes its labels each time (0.5-2 us on a
 * busy service, whose caches the rest of the request has filled).
 */
const tokenCacheLookupCounts = { hit: 0, miss: 0 };

new Counter({
  name: 'acme_token_cache_lookups_total',
  help: 'Lookups of a token in the verified-token cache, by result (hit, miss).',
  labelNames: ['result'] as const,
  collect() {
    this.reset();
    this.inc({ result: 'hit' }, tokenCacheLookupCounts.hit);
    this.inc({ result: 'miss' }, tokenCacheLookupCounts.miss);
  },
});

/** The gauge's value of each state. */
export const CIRCUIT_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;
export type CircuitState = keyof typeof CIRCUIT_STATE_VALUES;

const circuitState = new Gauge({
  name: 'acme_circuit_breaker_state',
  help: 'State of the circuit breaker towards each called service: 0 closed, 1 half-open, 2 open.',
  labelNames: ['service'] as const,
});

/** The metric labels of a 401 or 403. */
export function denialLabels(exception: HttpException): {
  reason: DenialReason;
  check: InvalidTokenCheck | '';
} {
  if (exception instanceof InvalidTokenException) {
    const body = exception.getResponse() as { error?: unknown };
    return body.error === 'unauthorized'
      ? { reason: 'missing_token', check: '' }
      : { reason: 'invalid_token', check: exception.check };
  }
  if (exception instanceof InsufficientScopeException) {
    return { reason: exception.reason, check: '' };
  }
  return { reason: exception.getStatus() === 401 ? 'unauthorized' : 'forbidden', check: '' };
}

/**
 * Counts a 401 or 403 in `acme_auth_denials_total`.
 *
 * @example
 * if (isDenial(exception)) countDenial(exception);
 */
export function countDenial(exception: HttpException): void {
  denials.inc(denialLabels(exception));
}

export function countJwksRefresh(result: 'ok' | 'failed'): void {
  jwksRefreshes.inc({ result });
}

/** Counts a verified-token cache lookup, and records it on the `token.verify` span. */
export function countTokenCacheLookup(result: 'hit' | 'miss'): void {
  tokenCacheLookupCounts[result]++;
  annotateActiveSpan({ 'acme.token.cache': result });
}

export function recordCircuitState(service: string, state: CircuitState): void {
  circuitState.set({ service }, CIRCUIT_STATE_VALUES[state]);
}
