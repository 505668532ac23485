// A headless OpenID Connect client for the dev auth server: signs a user in through the real login
// page (authorization code + PKCE) or gets a service token (client credentials). Only global fetch
// and node:crypto, so scripts and e2e tests can import it without set-up.
import { createHash, randomBytes } from 'node:crypto';
import type { TlsMaterial } from '@acme/transport';
import { mutualTlsFetch } from '../token/mutual-tls-fetch';
import { dpopProof } from './dpop-client';
import type { DpopKey } from './dpop-client';

/** A token endpoint response (RFC 6749 section 5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

export interface LoginOptions {
  issuer: string;
  username: string;
  password: string;
  scope: string;
  clientId?: string;
  redirectUri?: string;
  /** Ask for a DPoP-bound token (RFC 9449): the code is redeemed with a proof by this key. */
  dpop?: DpopKey;
}

export interface ClientCredentialsOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** The API, for Auth0, whose token endpoint needs it (`audience`). */
  audience?: string;
  /** The resource indicator of the service to call (RFC 8707), for the bundled auth server. */
  resource?: string;
  /**
   * The service's certificate: the request goes over mutual TLS to the issuer's
   * `mtls_endpoint_aliases.token_endpoint` (RFC 8705) when it publishes one, and
   * the token is bound to the certificate.
   */
  tls?: TlsMaterial;
}

/** The parts of the discovery document this client uses. */
export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  mtls_endpoint_aliases?: { token_endpoint?: string };
}

/** An authorization code, with what is needed to redeem it. */
export interface AuthorizationResult {
  code: string;
  codeVerifier: string;
  redirectUri: string;
  clientId: string;
  discovery: Discovery;
}

/** A failure worth showing to a person as is (no stack trace needed). */
export class OidcLoginError extends Error {
  override name = 'OidcLoginError';
}

/**
 * Signs a user in with the authorization code flow and PKCE, as a browser would: follows the
 * redirects, posts the login form (with its CSRF token), then redeems the code.
 *
 * @example
 * const { access_token } = await loginWithPkce({
 *   issuer: 'http://localhost:3001', username: 'alice', password: 'alice', scope: 'openid orders:read',
 * });
 */
export async function loginWithPkce(options: LoginOptions): Promise<TokenResponse> {
  const { code, codeVerifier, redirectUri, clientId, discovery } = await authorize(options);
  return tokenRequest(
    discovery,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: codeVerifier,
    },
    options.dpop
      ? { dpop: dpopProof(options.dpop, { method: 'POST', url: discovery.token_endpoint }) }
      : {},
  );
}

/**
 * Gets a token for a service client (client credentials grant, `client_secret_basic`).
 *
 * @example
 * const { access_token } = await clientCredentials({
 *   issuer: 'http://localhost:3001', clientId: 'order', clientSecret, scope: 'payments:charge',
 * });
 */
export async function clientCredentials({
  issuer,
  clientId,
  clientSecret,
  scope,
  audience,
  resource,
  tls,
}: ClientCredentialsOptions): Promise<TokenResponse> {
  const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  const discovery = await discover(issuer);
  const alias = discovery.mtls_endpoint_aliases?.token_endpoint;
  return tokenRequest(
    tls && alias ? { ...discovery, token_endpoint: alias } : discovery,
    {
      grant_type: 'client_credentials',
      scope,
      ...(audience === undefined ? {} : { audience }),
      ...(resource === undefined ? {} : { resource }),
    },
    { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    tls && alias ? mutualTlsFetch(tls) : undefined,
  );
}

/** Reads `<issuer>/.well-known/openid-configuration`. */
export async function discover(issuer: string): Promise<Discovery> {
  // Auth0's issuer ends with a slash, which is not doubled.
  const response = await send(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) {
    throw new OidcLoginError(`${issuer} has no OpenID configuration (HTTP ${response.status}).`);
  }
  return (await response.json()) as Discovery;
}

/**
 * Runs the front-channel part of {@link loginWithPkce} and returns the code without redeeming it
 * (tests use it to try redeeming it wrongly).
 */
export async function authorize({
  issuer,
  username,
  password,
  scope,
  clientId = 'cli',
  redirectUri = 'http://127.0.0.1/callback',
}: LoginOptions): Promise<AuthorizationResult> {
  const discovery = await discover(issuer);
  const codeVerifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  // OpenID Connect grants offline_access (a refresh token) only along with prompt=consent.
  if (scope.split(' ').includes('offline_access')) url.searchParams.set('prompt', 'consent');

  const callback = new URL(redirectUri);
  const browser = new CookieJar();
  let response = await browser.fetch(url.href);
  let submitted = false;
  for (let hops = 0; hops < 20; hops++) {
    const location = response.headers.get('location');
    if (location && response.status >= 300 && response.status < 400) {
      const next = new URL(location, response.url);
      if (next.origin === callback.origin && next.pathname === callback.pathname) {
        const code = readCallback(next, { state, issuer: discovery.issuer });
        return { code, codeVerifier, redirectUri, clientId, discovery };
      }
      response = await browser.fetch(next.href);
      continue;
    }

    // Not a redirect: the login page, or the page of an error.
    const html = await response.text();
    if (response.status === 429) {
      throw new OidcLoginError('Too many failed sign-ins; wait and retry.');
    }
    const form = submitted ? undefined : readLoginForm(html);
    if (!form) {
      throw new OidcLoginError(`Sign-in failed (HTTP ${response.status}): ${pageMessage(html)}`);
    }
    submitted = true;
    response = await browser.fetch(new URL(form.action, response.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.hidden, username, password }).toString(),
    });
  }
  throw new OidcLoginError('Too many redirects during sign-in.');
}

/** The code of the redirect to the client, after checking it answers our request (RFC 9207). */
function readCallback(callback: URL, expected: { state: string; issuer: string }): string {
  const params = callback.searchParams;
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description') ?? '';
    throw new OidcLoginError(`Authorization failed: ${error} ${description}`.trim());
  }
  if (params.get('state') !== expected.state) {
    throw new OidcLoginError('The state does not match the request.');
  }
  if (params.get('iss') !== expected.issuer) {
    throw new OidcLoginError(
      `The response comes from ${params.get('iss')}, not ${expected.issuer}.`,
    );
  }
  const code = params.get('code');
  if (!code) throw new OidcLoginError('The callback carries no code.');
  return code;
}

async function tokenRequest(
  discovery: Discovery,
  body: Record<string, string>,
  headers: Record<string, string> = {},
  post?: ReturnType<typeof mutualTlsFetch>,
): Promise<TokenResponse> {
  const init = {
    method: 'POST' as const,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  };
  const response = post
    ? await post(discovery.token_endpoint, { ...init, signal: AbortSignal.timeout(10_000) })
    : await send(discovery.token_endpoint, init);
  const json = (await response.json().catch(() => ({}))) as TokenResponse & {
    error?: string;
    error_description?: string;
  };
  if (!response.ok) {
    throw new OidcLoginError(
      `Token request failed: ${json.error} ${json.error_description ?? ''}`.trim(),
    );
  }
  return json;
}

/** fetch that explains an unreachable server instead of failing with "fetch failed". */
async function send(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual' });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    const server = URL.canParse(url) ? new URL(url).origin : url;
    throw new OidcLoginError(
      `Cannot reach the auth server at ${server} (${reason}). Is it running? Start it with \`npm start\`.`,
    );
  }
}

/** Keeps the cookies the server sets, like a browser visiting one site. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  async fetch(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await send(url, { ...init, headers: { ...init.headers, cookie } });
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const expired = attributes.some((attribute) =>
        /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(attribute),
      );
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(separator + 1).trim());
    }
    return response;
  }
}

/** The login form of the auth server's sign-in page: its action and hidden fields. */
function readLoginForm(
  html: string,
): { action: string; hidden: Record<string, string> } | undefined {
  const action = /<form[^>]*\saction="([^"]*)"/i.exec(html)?.[1];
  if (action === undefined || !/name="password"/.test(html)) return undefined;
  const hidden: Record<string, string> = {};
  for (const [input] of html.matchAll(/<input[^>]*type="hidden"[^>]*>/gi)) {
    const name = /\sname="([^"]*)"/.exec(input)?.[1];
    const value = /\svalue="([^"]*)"/.exec(input)?.[1];
    if (name !== undefined) hidden[decodeHtml(name)] = decodeHtml(value ?? '');
  }
  return { action: decodeHtml(action), hidden };
}

/** The alert or heading of a page, to explain a failed sign-in. */
function pageMessage(html: string): string {
  const text = /role="alert"[^>]*>([^<]*)</.exec(html)?.[1] ?? /<h1[^>]*>([^<]*)</.exec(html)?.[1];
  return text ? decodeHtml(text.trim()) : 'unexpected page';
}

function decodeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
