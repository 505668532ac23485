import type { TlsMaterial } from '@acme/transport';
import { discoverIssuer } from './issuer-discovery';
import { mutualTlsFetch } from './mutual-tls-fetch';
import type { MutualTlsRequest } from './mutual-tls-fetch';

/** A confidential client of the issuer: the service itself. */
export interface ClientAuthentication {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Timeout of each request to the issuer. */
  timeoutMs: number;
  /**
   * This service's certificate: token requests go over mutual TLS (RFC 8705)
   * to the issuer's `mtls_endpoint_aliases.token_endpoint`, or to an https
   * `token_endpoint`, so that the issuer binds the tokens to it (`cnf["x5t#S256"]`).
   */
  tls?: TlsMaterial;
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

type Post = (url: string, init: MutualTlsRequest) => Promise<Response>;

/**
 * The issuer's token endpoint (found by discovery, once), called as this
 * service with HTTP Basic client authentication. With the service's
 * certificate, over mutual TLS where the issuer offers it (RFC 8705 5: its
 * `mtls_endpoint_aliases`, or an https token endpoint), so the tokens it
 * issues are bound to that certificate.
 */
export class TokenEndpoint {
  private endpoint?: { url: string; post: Post };

  constructor(
    private readonly client: ClientAuthentication,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async request(form: Record<string, string>): Promise<IssuedToken> {
    const { clientId, clientSecret, timeoutMs } = this.client;
    this.endpoint ??= await this.discover();
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString('base64');
    const response = await this.endpoint.post(this.endpoint.url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
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

  private async discover(): Promise<{ url: string; post: Post }> {
    const { issuer, timeoutMs, tls } = this.client;
    const metadata = await discoverIssuer(issuer, this.fetchFn, timeoutMs);
    const alias = metadata.mtls_endpoint_aliases?.token_endpoint;
    if (tls && alias?.startsWith('https:')) return { url: alias, post: mutualTlsFetch(tls) };
    const url = metadata.token_endpoint;
    if (!url) throw new Error(`${issuer} publishes no token_endpoint`);
    if (tls && url.startsWith('https:')) return { url, post: mutualTlsFetch(tls) };
    return { url, post: (target, init) => this.fetchFn(target, { ...init, redirect: 'error' }) };
  }
}

/** When to stop using a token that lives `lifetimeMs` from now: shortly before it expires. */
export function renewalTime(lifetimeMs: number, renewBeforeMs: number): number {
  return Date.now() + Math.max(lifetimeMs - renewBeforeMs, lifetimeMs / 2);
}
