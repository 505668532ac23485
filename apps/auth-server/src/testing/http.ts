import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';

export interface Jwt {
  header: { alg: string; typ?: string; kid: string };
  payload: Record<string, unknown>;
}

/** Decodes a JWT without checking it. */
export function decodeJwt(token: string): Jwt {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header, payload };
}

/** Checks the signature of a JWT against a JWKS, as a resource server would; throws when it fails. */
export function verifyJwt(token: string, jwks: { keys: JsonWebKey[] }): Jwt {
  const jwt = decodeJwt(token);
  const jwk = jwks.keys.find((key) => key.kid === jwt.header.kid);
  if (!jwk) throw new Error(`no key ${jwt.header.kid} in the JWKS`);
  const [header, payload, signature] = token.split('.');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    jwt.header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(signature, 'base64url'),
  );
  if (!valid) throw new Error('invalid signature');
  return jwt;
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

/** Posts a form; returns the status and the JSON body. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function basicAuth(clientId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` };
}

/** A GET that does not follow redirects. */
export function getManual(url: string, cookie = ''): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: { cookie } });
}

/** The authorization request of the `cli` client, with PKCE, for `scope`. */
export function authorizationUrl(issuer: string, params: Record<string, string> = {}): string {
  const verifier = randomBytes(32).toString('base64url');
  return `${issuer}/auth?${new URLSearchParams({
    client_id: 'cli',
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1/callback',
    scope: 'openid orders:read',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...params,
  }).toString()}`;
}

/** The name=value pairs of a response's Set-Cookie headers, joined for a Cookie header. */
function cookiesOf(response: Response, previous = ''): string {
  const cookies = response.headers.getSetCookie().map((header) => header.split(';')[0]);
  return [previous, ...cookies].filter(Boolean).join('; ');
}

export interface LoginForm {
  /** Absolute URL the form posts to. */
  action: string;
  csrf: string;
  /** The cookies a browser would send with the post. */
  cookie: string;
}

/** Opens the login page of a new authorization request, like a browser, and returns its form. */
export async function openLoginForm(issuer: string): Promise<LoginForm> {
  const authorization = await getManual(authorizationUrl(issuer));
  const interactionUrl = new URL(authorization.headers.get('location') ?? '', issuer).href;
  let cookie = cookiesOf(authorization);
  const page = await getManual(interactionUrl, cookie);
  cookie = cookiesOf(page, cookie);
  const html = await page.text();
  const action = /action="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !action || !csrf) {
    throw new Error(`no login form: ${page.status} ${html}`);
  }
  return { action: new URL(action, issuer).href, csrf, cookie };
}

/**
 * Posts credentials to a login form; returns the status and the page's alert text, if any.
 * `headers` adds request headers (e.g. `x-forwarded-for` to sign in from another address).
 */
export async function submitLogin(
  form: LoginForm,
  fields: Record<string, string>,
  cookie = form.cookie,
  headers: Record<string, string> = {},
): Promise<{ status: number; alert?: string; location: string | null; retryAfter: string | null }> {
  const response = await fetch(form.action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
    body: new URLSearchParams({ csrf: form.csrf, ...fields }).toString(),
  });
  return {
    status: response.status,
    alert: /role="alert">([^<]*)</.exec(await response.text())?.[1],
    location: response.headers.get('location'),
    retryAfter: response.headers.get('retry-after'),
  };
}
