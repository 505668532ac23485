import { Logger } from '@nestjs/common';
import { discoverIssuer } from './issuer-discovery';

export interface ServiceCredentials {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  timeoutMs: number;
  /** Sent as `audience` in the token request, for Auth0, which needs it to name the API. */
  audience?: string;
}

/** Renew this long before `expires_in` runs out, so a token never expires in flight. */
const RENEW_BEFORE_MS = 30_000;

/**
 * This service's own access token, from the OAuth 2.0 client credentials grant,
 * cached until shortly before it expires. Used when a service acts for itself
 * (an event it emits), never when it acts for a user.
 *
 * @example
 * const token = await serviceTokens.getToken();
 */
export class ServiceTokenProvider {
  private readonly log = new Logger(ServiceTokenProvider.name);
  private token?: { value: string; renewAt: number };
  private inFlight?: Promise<string>;
  private tokenEndpoint?: string;

  constructor(
    private readonly credentials: ServiceCredentials,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async getToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    this.inFlight ??= this.request().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async request(): Promise<string> {
    const { issuer, clientId, clientSecret, scope, timeoutMs, audience } = this.credentials;
    this.tokenEndpoint ??= (await discoverIssuer(issuer, this.fetchFn, timeoutMs)).token_endpoint;
    if (!this.tokenEndpoint) throw new Error(`${issuer} publishes no token_endpoint`);
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString('base64');
    const response = await this.fetchFn(this.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope,
        ...(audience === undefined ? {} : { audience }),
      }),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      this.log.error(`client credentials grant for ${clientId} refused: ${response.status}`);
      throw new Error(`token endpoint answered ${response.status}`);
    }
    const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') {
      throw new Error('token response has no access_token');
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 60) * 1000;
    this.token = {
      value: body.access_token,
      renewAt: Date.now() + Math.max(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs / 2),
    };
    return body.access_token;
  }
}
