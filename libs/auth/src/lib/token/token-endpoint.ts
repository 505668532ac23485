import { discoverIssuer } from './issuer-discovery';

/** A confidential client of the issuer: the service itself. */
export interface ClientAuthentication {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Timeout of each request to the issuer. */
  timeoutMs: number;
}

/** The issuer answered a token request with an error (RFC 6749 5.2), or not at all usefully. */
export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    /** The OAuth error code, when the issuer gave one (`invalid_grant`, `invalid_target` ...). */
    readonly error: string | undefined,
  ) {
    super(`token endpoint answered ${status}${error === undefined ? '' : ` ${error}`}`);
  }
}

export interface IssuedToken {
  accessToken: string;
  /** `expires_in`, in seconds (60 when the issuer does not say). */
  expiresInSec: number;
}

/**
 * The issuer's token endpoint (found by discovery, once), called as this
 * service with HTTP Basic client authentication.
 */
export class TokenEndpoint {
  private url?: string;

  constructor(
    private readonly client: ClientAuthentication,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async request(form: Record<string, string>): Promise<IssuedToken> {
    const { issuer, clientId, clientSecret, timeoutMs } = this.client;
    this.url ??= (await discoverIssuer(issuer, this.fetchFn, timeoutMs)).token_endpoint;
    if (!this.url) throw new Error(`${issuer} publishes no token_endpoint`);
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString('base64');
    const response = await this.fetchFn(this.url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
    };
    if (!response.ok) {
      throw new TokenRequestError(
        response.status,
        typeof body.error === 'string' ? body.error : undefined,
      );
    }
    if (typeof body.access_token !== 'string') {
      throw new Error('token response has no access_token');
    }
    return {
      accessToken: body.access_token,
      expiresInSec: typeof body.expires_in === 'number' ? body.expires_in : 60,
    };
  }
}

/** When to stop using a token that lives `lifetimeMs` from now: shortly before it expires. */
export function renewalTime(lifetimeMs: number, renewBeforeMs: number): number {
  return Date.now() + Math.max(lifetimeMs - renewBeforeMs, lifetimeMs / 2);
}
