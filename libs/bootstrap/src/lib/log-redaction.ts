/**
 * Fields never written to a log, at the top of a logged object or one level down
 * (`body.password`, `err.token`): credentials and anything that may carry one.
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

/** Credential headers of a logged request or response, deeper down. */
const SECRET_HEADERS: Readonly<Record<string, readonly string[]>> = {
  req: ['authorization', 'cookie', 'proxy-authorization'],
  res: ['set-cookie'],
};

export const REDACTED = '[redacted]';

/**
 * pino's `redact` for the top-level fields only: it runs on those keys alone, and on
 * objects interpolated into a message. Its wildcard paths (`*.password`) would run its
 * redactor, which parses every path again on every call, over every field of every line
 * and binding: about 18 us a line (docs/BENCHMARKS.md). {@link redactSecrets} does the rest.
 */
export const REDACTED_PATHS = SECRET_FIELDS;

/**
 * A logged object (or a child logger's bindings) with every secret field one level down,
 * and every credential header of `req` and `res`, replaced by `[redacted]`: a copy of what
 * it changes, never the caller's object. The top-level fields are pino's `redact`.
 *
 * @example
 * redactSecrets({ body: { name: 'bob', password: 'hunter2' } })
 * // { body: { name: 'bob', password: '[redacted]' } }
 */
export function redactSecrets<T extends object>(logged: T): T {
  let changed: PropertyDescriptorMap | undefined;
  for (const key in logged) {
    if (!Object.prototype.hasOwnProperty.call(logged, key)) continue;
    const value: unknown = logged[key];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    let redacted = withoutSecretFields(value);
    const headers = SECRET_HEADERS[key] && (redacted as { headers?: unknown }).headers;
    if (headers !== null && typeof headers === 'object') {
      const safeHeaders = withoutFields(headers, SECRET_HEADERS[key]);
      if (safeHeaders !== headers) {
        redacted = copyOf(redacted, { headers: field(safeHeaders) });
      }
    }
    if (redacted !== value) (changed ??= {})[key] = field(redacted);
  }
  return changed ? copyOf(logged, changed) : logged;
}

/** `value` with its own secret fields redacted (a copy), or `value` itself if it has none. */
export function withoutSecretFields<T extends object>(value: T): T {
  return withoutFields(value, SECRET_FIELDS);
}

// Probing the few names, not walking the object's keys: a large object (a Buffer) costs the same.
function withoutFields<T extends object>(value: T, fields: readonly string[]): T {
  let redacted: PropertyDescriptorMap | undefined;
  for (const name of fields) {
    if (Object.prototype.propertyIsEnumerable.call(value, name)) {
      (redacted ??= {})[name] = field(REDACTED);
    }
  }
  return redacted ? copyOf(value, redacted) : value;
}

/**
 * A copy with the same prototype and own properties, enumerable or not (an error's message
 * and stack), so that JSON and pino's serializers make the same of it; `changed` replaces some.
 */
function copyOf<T extends object>(value: T, changed: PropertyDescriptorMap): T {
  return Object.create(Object.getPrototypeOf(value) as object | null, {
    ...Object.getOwnPropertyDescriptors(value),
    ...changed,
  }) as T;
}

/** An own property as an assignment makes it. */
function field(value: unknown): PropertyDescriptor {
  return { value, enumerable: true, writable: true, configurable: true };
}

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
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(JWT, '[redacted-jwt]')
    .replace(SECRET_PARAMETER, `$1=${REDACTED}`)
    .replace(SECRET_JSON_FIELD, `"$1":"${REDACTED}"`);
}
