/**
 * Fields never written to a log, wherever they appear in a logged object:
 * credentials and anything that may carry one. Matched by pino's `redact`.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'id_token',
  'client_secret',
  'clientSecret',
  'cardToken',
];

export const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const SECRET_NAMES = `${SECRET_FIELDS.join('|')}|passwd|code|api_?key`;
const SECRET_PARAMETER = new RegExp(`\\b(${SECRET_NAMES})=[^&\\s"']*`, 'gi');
const SECRET_JSON_FIELD = new RegExp(`"(${SECRET_NAMES})"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"`, 'gi');

/**
 * Removes credentials from free text (messages, URLs, error stacks), for what
 * `redact` cannot reach: JWTs, `Bearer`/`Basic` credentials, and secret-named
 * query parameters or JSON fields.
 *
 * @example
 * scrubSecrets('GET /cb?code=abc&state=1') // 'GET /cb?code=[redacted]&state=1'
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(AUTH_SCHEME, '$1 [redacted]')
    .replace(JWT, '[redacted-jwt]')
    .replace(SECRET_PARAMETER, '$1=[redacted]')
    .replace(SECRET_JSON_FIELD, '"$1":"[redacted]"');
}
