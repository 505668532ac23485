import { Logger } from '@nestjs/common';
import { renewalTime, TokenEndpoint, TokenRequestError } from './token-endpoint';
import type { ClientAuthentication } from './token-endpoint';

export interface ServiceCredentials extends ClientAuthentication {
  /** Scopes asked for when the service acts as itself; without, it never does (no `sendAsService`). */
  scope?: string;
  /**
   * How a token request names the service to call: `resource` (RFC 8707, the
   * bundled auth server), `audience` (Auth0, RFC 8693's name), or not at all
   * (Keycloak and Okta set audiences in their own configuration).
   */
  targetParameter?: 'resource' | 'audience';
  /**
   * Send the subject token's scopes as `scope` in a token exchange: Okta
   * requires the parameter; Keycloak and Auth0 get none (their scope claims
   * hold scopes a client may not ask for by name).
   */
  exchangeScope?: boolean;
}

/** Renew this long before `expires_in` runs out, so a token never expires in flight. */
const RENEW_BEFORE_MS = 30_000;

/**
 * This service's own access token for a callee's audience, from the OAuth 2.0
 * client credentials grant, cached per audience until shortly before it
 * expires. Used when a service acts for itself (an event it emits), never
 * when it acts for a user.
 *
 * @example
 * const token = await serviceTokens.getToken('urn:acme:order');
 */
export class ServiceTokenProvider {
  private readonly log = new Logger(ServiceTokenProvider.name);
  private readonly tokens = new Map<string, { value: string; renewAt: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly endpoint: TokenEndpoint;

  constructor(
    private readonly credentials: ServiceCredentials,
    fetchFn: typeof fetch = fetch,
  ) {
    this.endpoint = new TokenEndpoint(credentials, fetchFn);
  }

  async getToken(audience: string): Promise<string> {
    const token = this.tokens.get(audience);
    if (token && Date.now() < token.renewAt) return token.value;
    let pending = this.inFlight.get(audience);
    if (!pending) {
      pending = this.request(audience).finally(() => this.inFlight.delete(audience));
      this.inFlight.set(audience, pending);
    }
    return pending;
  }

  private async request(audience: string): Promise<string> {
    const { clientId, scope, targetParameter } = this.credentials;
    try {
      const issued = await this.endpoint.request({
        grant_type: 'client_credentials',
        ...(scope === undefined ? {} : { scope }),
        ...(targetParameter === undefined ? {} : { [targetParameter]: audience }),
      });
      const lifetimeMs = issued.expiresInSec * 1000;
      this.tokens.set(audience, {
        value: issued.accessToken,
        renewAt: renewalTime(lifetimeMs, RENEW_BEFORE_MS),
      });
      return issued.accessToken;
    } catch (error) {
      if (error instanceof TokenRequestError) {
        this.log.error(`client credentials grant for ${clientId} refused: ${error.message}`);
      }
      throw error;
    }
  }
}
