/** A call that failed, with a message for the person using the page. */
export class ApiError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The reason in the gateway's error body (Nest's `{ statusCode, error, message }`), if any. */
function reasonOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.filter((item) => typeof item === 'string').join('; ');
  return undefined;
}

/** Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 10.2.3). */
function secondsToWait(retryAfter: string | null, now: number): number | undefined {
  if (!retryAfter) return undefined;
  if (/^\d+$/.test(retryAfter)) return Number(retryAfter);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Explains a failed API response in words a user can act on.
 *
 * @example
 * explainStatus(429, {}, '30'); // 'Too many requests (429). Try again in 30 s.'
 */
export function explainStatus(
  status: number,
  body: unknown,
  retryAfter: string | null = null,
  now = Date.now(),
): string {
  const reason = reasonOf(body);
  const code = reason ? `${status}: ${reason}` : String(status);
  if (status === 401) return `Your session is no longer accepted (${code}). Sign in again.`;
  if (status === 403) return `You are not allowed to do this (${code}).`;
  if (status === 429) {
    const seconds = secondsToWait(retryAfter, now);
    return `Too many requests (429). Try again in ${seconds === undefined ? 'a moment' : `${seconds} s`}.`;
  }
  if (status === 502 || status === 503) {
    return `A service behind the API is down (${status}). Try again in a moment.`;
  }
  if (status === 504) {
    return 'A service behind the API did not answer in time (504). Try again in a moment.';
  }
  if (status >= 500) return `The API failed (${status}). Try again later.`;
  return `The API refused the request (${code}).`;
}

/** The message when a server cannot be reached at all (down, or it refuses this page's origin). */
export function explainUnreachable(what: string, url: string): string {
  return `Cannot reach ${what} at ${new URL(url).origin}: it is down or does not accept this page's origin. Try again in a moment.`;
}
