import { ForbiddenException, HttpException, UnauthorizedException } from '@nestjs/common';
import type { DpopErrorCode } from './token/dpop-proof.verifier';
import type { InvalidTokenCheck } from './token/invalid-token.error';

/** RFC 6750 error codes, carried in the body's `error` and in `WWW-Authenticate`. */
export const BEARER_ERRORS = {
  invalidToken: 'invalid_token',
  insufficientScope: 'insufficient_scope',
} as const;

/** 401: no token, or a token that failed verification (the reason is safe to show). */
export class InvalidTokenException extends UnauthorizedException {
  /** `check`: the failed check, for metrics; without a description there was no token. */
  constructor(
    description?: string,
    readonly check: InvalidTokenCheck = 'malformed',
    error: string = BEARER_ERRORS.invalidToken,
  ) {
    super({
      statusCode: 401,
      error: description ? error : 'unauthorized',
      message: description ?? 'a bearer token is required',
    });
  }
}

/**
 * 401 of the DPoP scheme (RFC 9449 7.1): `invalid_dpop_proof` for a bad
 * proof, `invalid_token` for a token that is not what the scheme needs. Its
 * challenge names the `DPoP` scheme and the accepted proof algorithms.
 */
export class DpopException extends InvalidTokenException {
  /** `nonce`: with `use_dpop_nonce`, the server nonce the next proof must carry (`DPoP-Nonce`). */
  constructor(
    readonly code: DpopErrorCode,
    description: string,
    readonly algorithms: readonly string[],
    readonly nonce?: string,
  ) {
    super(description, 'dpop', code);
  }
}

/**
 * 401 without a token where DPoP proofs are checked: the challenge offers the
 * `DPoP` scheme with its algorithms, and `Bearer` too unless DPoP is required
 * (RFC 9449 7.1).
 */
export class MissingTokenException extends InvalidTokenException {
  constructor(readonly dpop: { required: boolean; algorithms: readonly string[] }) {
    super();
  }
}

/** Which rule refused a valid token, for metrics. */
export type InsufficientScopeReason =
  | 'insufficient_scope'
  | 'role'
  | 'policy'
  | 'caller_not_allowed';

/** 403: a valid token that does not grant what the handler requires. */
export class InsufficientScopeException extends ForbiddenException {
  constructor(
    description: string,
    readonly reason: InsufficientScopeReason = 'insufficient_scope',
  ) {
    super({ statusCode: 403, error: BEARER_ERRORS.insufficientScope, message: description });
  }
}

/**
 * The `WWW-Authenticate` challenge (RFC 6750 section 3) for a 401 or 403, or
 * undefined for any other error.
 *
 * @example
 * const challenge = bearerChallenge(exception);
 * if (challenge) response.setHeader('WWW-Authenticate', challenge);
 */
export function bearerChallenge(exception: HttpException): string | undefined {
  if (exception instanceof MissingTokenException) {
    const dpop = `DPoP algs="${exception.dpop.algorithms.join(' ')}"`;
    return exception.dpop.required ? dpop : `Bearer, ${dpop}`;
  }
  if (exception instanceof DpopException) {
    return `DPoP error="${exception.code}", error_description="${challengeText(exception.message)}", algs="${exception.algorithms.join(' ')}"`;
  }
  const status = exception.getStatus();
  if (status !== 401 && status !== 403) return undefined;
  const body = exception.getResponse();
  const error = typeof body === 'object' ? (body as Record<string, unknown>)['error'] : undefined;
  if (error !== BEARER_ERRORS.invalidToken && error !== BEARER_ERRORS.insufficientScope) {
    return status === 401 ? 'Bearer' : undefined;
  }
  const message = (body as Record<string, unknown>)['message'];
  // RFC 6750 3 allows only %x20-21 / %x23-5B / %x5D-7E here. Reasons may quote the token's
  // own header (its `alg`, `typ`), so anything else (quotes, line breaks) is dropped.
  const description = typeof message === 'string' ? challengeText(message) : '';
  return `Bearer error="${error}", error_description="${description}"`;
}

/**
 * The headers of a refusal's challenge: `WWW-Authenticate`, and with a DPoP
 * `use_dpop_nonce` the `DPoP-Nonce` to retry with (RFC 9449 9).
 *
 * @example
 * for (const [name, value] of Object.entries(challengeHeaders(exception))) response.setHeader(name, value);
 */
export function challengeHeaders(exception: HttpException): Record<string, string> {
  const challenge = bearerChallenge(exception);
  if (!challenge) return {};
  if (exception instanceof DpopException && exception.nonce) {
    return { 'WWW-Authenticate': challenge, 'DPoP-Nonce': exception.nonce };
  }
  return { 'WWW-Authenticate': challenge };
}

function challengeText(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}
