/**
 * Why a token was refused. The message is safe to return to the caller as an
 * RFC 6750 `error_description`: it names the failed check, never key material.
 */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}
