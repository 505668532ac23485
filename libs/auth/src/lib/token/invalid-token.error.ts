/** The check a refused token failed: a fixed set, so that it can label a metric. */
export type InvalidTokenCheck =
  | 'malformed'
  | 'algorithm'
  | 'key_in_header'
  | 'critical_header'
  | 'type'
  | 'no_kid'
  | 'unknown_kid'
  | 'keys_unavailable'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'lifetime'
  | 'certificate_binding'
  | 'dpop'
  | 'transport';

/**
 * Why a token was refused. The message is safe to return to the caller as an
 * RFC 6750 `error_description`: it names the failed check, never key material.
 */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  constructor(
    message: string,
    readonly check: InvalidTokenCheck,
  ) {
    super(message);
  }
}
