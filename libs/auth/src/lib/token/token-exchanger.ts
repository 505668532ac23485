import { Logger } from '@nestjs/common';
import { readScopes } from '../principal';
import { renewalTime, TokenEndpoint, TokenRequestError } from './token-endpoint';
import type { ClientAuthentication } from './token-endpoint';
import { tokenDigest } from './token-digest';

/** RFC 8693 section 2.1 and 3. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Stop using an exchanged token this long before it expires, so it never expires in flight. */
const RENEW_BEFORE_MS = 10_000;
/** Exchanged tokens remembered at most; the oldest go first. */
const DEFAULT_CACHE_SIZE = 10_000;

interface CachedToken {
  value: string;
  renewAt: number;
}

/**
 * Exchanges the token a service received for one with a callee's audience
 * (RFC 8693 token exchange at the issuer, authenticated as this service).
 * Exchanged tokens are remembered per user token and audience until shortly
 * before they expire, so the common path costs no round trip, and concurrent
 * calls with the same token share one exchange. Only hashes of the user's
 * tokens are kept as keys.
 *
 * @example
 * const forPayment = await exchanger.exchange(userToken, 'urn:acme:payment');
 */
export class TokenExchanger {
  private readonly log = new Logger(TokenExchanger.name);
  private readonly endpoint: TokenEndpoint;
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly client: ClientAuthentication & {
      /**
       * Send `scope`: the subject token's own scopes (Okta requires the
       * parameter; asking for what the token holds never widens it).
       */
      exchangeScope?: boolean;
    },
    fetchFn: typeof fetch = fetch,
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
  ) {
    this.endpoint = new TokenEndpoint(client, fetchFn);
  }

  /**
   * The token for `audience`: at once when one exchanged for this token is still fresh, else
   * a promise, settled when the issuer answers. Rejects with {@link TokenRequestError} when the
   * issuer refuses (`invalid_grant`: the token is no longer valid).
   */
  exchange(subjectToken: string, audience: string): string | Promise<string> {
    const key = `${tokenDigest(subjectToken)} ${audience}`;
    const cached = this.cache.get(key);
    if (cached && Date.now() < cached.renewAt) return cached.value;
    if (cached) this.cache.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.request(key, subjectToken, audience).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async request(key: string, subjectToken: string, audience: string): Promise<string> {
    const scope = this.client.exchangeScope ? scopesOf(subjectToken) : '';
    try {
      const issued = await this.endpoint.request({
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        requested_token_type: ACCESS_TOKEN_TYPE,
        audience,
        ...(scope ? { scope } : {}),
      });
      this.remember(key, {
        value: issued.accessToken,
        renewAt: renewalTime(issued.expiresInSec * 1000, RENEW_BEFORE_MS),
      });
      return issued.accessToken;
    } catch (error) {
      // invalid_grant is the caller's token (expired, revoked): no fault of this service.
      if (error instanceof TokenRequestError && error.error !== 'invalid_grant') {
        this.log.error(
          `token exchange of ${this.client.clientId} for ${audience} refused: ${error.message}`,
        );
      }
      throw error;
    }
  }

  private remember(key: string, token: CachedToken): void {
    if (this.cacheSize <= 0) return;
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, token);
  }
}

/**
 * The scopes of a token this service has verified (`scope`, or Okta's `scp`),
 * space-separated; empty when it has none or cannot be read.
 */
function scopesOf(token: string): string {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
    ) as unknown;
    if (typeof payload !== 'object' || payload === null) return '';
    return readScopes(payload as Record<string, unknown>).join(' ');
  } catch {
    // Not a JWT this service can read: the issuer judges the subject token, not this service.
    return '';
  }
}
