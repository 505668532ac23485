import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

// Double-submit CSRF protection of the login form: the same random token in an HttpOnly,
// SameSite=Strict cookie and in a hidden form field. Another site can make a browser post the form,
// but it can neither read nor set the cookie, so it cannot make the two match.
const CSRF_COOKIE = 'csrf';

/** Issues a token and sets its cookie, sent back only to `path` (the interaction's pages). */
export function issueCsrfToken(res: Response, path: string): string {
  const token = randomBytes(32).toString('base64url');
  res.cookie(CSRF_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: res.req.secure,
    path,
  });
  return token;
}

/** The token of the request's cookie, if any. */
export function csrfCookie(req: Request): string | undefined {
  for (const pair of req.headers.cookie?.split(';') ?? []) {
    const [name, ...value] = pair.trim().split('=');
    if (name === CSRF_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Whether the form's token equals the cookie's, compared in constant time. */
export function csrfTokenMatches(cookieToken: string | undefined, formToken: string): boolean {
  if (!cookieToken) return false;
  const expected = Buffer.from(cookieToken);
  const actual = Buffer.from(formToken);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
