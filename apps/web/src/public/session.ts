import * as oauth from 'oauth4webapi';
import { ApiError, explainUnreachable } from './problems.js';

/** What the page reads from /config.json. */
export interface WebConfig {
  issuer: string;
  clientId: string;
  gatewayUrl: string;
}

/** The signed-in user as the page shows them. */
export interface User {
  subject: string;
  name: string;
  /** From the ID token's `roles` claim; undefined when the issuer does not put one there. */
  roles?: string[];
  /** Scopes granted to this app, from the token response: they decide what the page offers. */
  scopes: string[];
  accessTokenExpiresAt: Date;
}

/**
 * API scopes the issuer grants a user only if their roles allow (admin:read), dropping the rest
 * without error. offline_access asks for a refresh token, which OpenID allows only with
 * prompt=consent; consent is implied for this first-party client.
 */
const SCOPE = 'openid profile offline_access orders:read orders:write admin:read';
/**
 * PKCE verifier, state and nonce of a sign-in in progress. They must survive the page unloading
 * for the redirect to the issuer, so they wait in sessionStorage (this tab only). They are no
 * tokens, are worthless without the authorization code, and are deleted when the callback comes.
 */
const PENDING_SIGN_IN = 'pending-sign-in';
/** Refresh this long before the access token expires, or at half its life if that is shorter. */
const REFRESH_MARGIN_SECONDS = 60;
/** When the issuer does not answer a refresh, try again after this long (while the token lasts). */
const RETRY_SECONDS = 10;

interface PendingSignIn {
  codeVerifier: string;
  state: string;
  nonce: string;
}

interface Tokens {
  access: string;
  /** Bound to this page's key (`token_type` DPoP): sent with a proof, else as a bearer token. */
  dpopBound: boolean;
  refresh?: string;
  id: string;
  expiresAt: number;
  user: User;
}

/** Plain http is allowed for a development issuer on this machine only. */
function isLocalHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * A request once more with the server's fresh DPoP nonce when it asks for one (`use_dpop_nonce`,
 * RFC 9449 8 and 9): the DPoP handle has kept the nonce from the refusal.
 */
async function retryingForDpopNonce<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return send();
    throw error;
  }
}

/**
 * The user's sign-in with the authorization code flow + PKCE (oauth4webapi). Tokens live in this
 * object only, never in storage that scripts or other tabs can read, and are lost on reload.
 *
 * Every token is bound to a key pair of this page (DPoP, RFC 9449): a non-extractable private key
 * signs a proof for each request, so a token that leaks (a log, a proxy, a stolen response) is
 * worthless without the key, and no script can export it.
 */
export class Session {
  #tokens?: Tokens;
  #timer?: ReturnType<typeof setTimeout>;
  #refreshing?: Promise<void>;
  #endedBecause?: string;

  private constructor(
    private readonly as: oauth.AuthorizationServer,
    private readonly client: oauth.Client,
    private readonly dpop: oauth.DPoPHandle,
    private readonly events: { refreshed(): void; ended(reason: string): void },
  ) {}

  /** Reads the issuer's discovery document and makes this page's DPoP key. */
  static async discover(config: WebConfig, events: Session['events']): Promise<Session> {
    const issuer = new URL(config.issuer);
    const response = await oauth.discoveryRequest(issuer, {
      algorithm: 'oidc',
      [oauth.allowInsecureRequests]: isLocalHttp(issuer),
      signal: AbortSignal.timeout(10_000),
    });
    const client: oauth.Client = { client_id: config.clientId };
    // ES256, as the gateway and the issuer accept; the private key cannot leave WebCrypto.
    const keyPair = await oauth.generateKeyPair('ES256', { extractable: false });
    return new Session(
      await oauth.processDiscoveryResponse(issuer, response),
      client,
      oauth.DPoP(client, keyPair),
      events,
    );
  }

  get user(): User | undefined {
    return this.#tokens?.user;
  }

  /** Sends the browser to the issuer's sign-in page. */
  async signIn(): Promise<void> {
    const pending: PendingSignIn = {
      codeVerifier: oauth.generateRandomCodeVerifier(),
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
    };
    sessionStorage.setItem(PENDING_SIGN_IN, JSON.stringify(pending));
    const url = new URL(this.endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.client.client_id,
      redirect_uri: `${location.origin}/callback`,
      scope: SCOPE,
      code_challenge: await oauth.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      prompt: 'consent',
    }).toString();
    location.assign(url);
  }

  /** Exchanges the code of the issuer's redirect for tokens, checking state, nonce and PKCE. */
  async completeSignIn(callbackUrl: URL): Promise<void> {
    const stored = sessionStorage.getItem(PENDING_SIGN_IN);
    sessionStorage.removeItem(PENDING_SIGN_IN);
    if (!stored) {
      throw new Error('This sign-in was already completed or never started here. Sign in again.');
    }
    const pending = JSON.parse(stored) as PendingSignIn;
    const parameters = oauth.validateAuthResponse(this.as, this.client, callbackUrl, pending.state);
    const tokens = await retryingForDpopNonce(async () =>
      oauth.processAuthorizationCodeResponse(
        this.as,
        this.client,
        await oauth.authorizationCodeGrantRequest(
          this.as,
          this.client,
          oauth.None(),
          parameters,
          `${location.origin}/callback`,
          pending.codeVerifier,
          { ...this.http(), DPoP: this.dpop },
        ),
        { expectedNonce: pending.nonce, requireIdToken: true },
      ),
    );
    this.accept(tokens);
  }

  /**
   * Sends a request to the API with the access token and a DPoP proof for it, retrying once
   * with a fresh nonce if the API asks for one. Resolves with the API's response, refusals
   * included; rejects only when the API cannot be reached.
   */
  async fetch(method: string, url: URL, headers: Headers, body?: string): Promise<Response> {
    const accessToken = await this.accessToken();
    // An issuer that does not bind tokens (RFC 9449 5: token_type Bearer) gets no proof.
    const dpop = this.#tokens?.dpopBound ? this.dpop : undefined;
    const send = () =>
      oauth.protectedResourceRequest(accessToken, method, url, headers, body, {
        [oauth.allowInsecureRequests]: isLocalHttp(url),
        signal: AbortSignal.timeout(15_000),
        DPoP: dpop,
      });
    try {
      return await retryingForDpopNonce(send);
    } catch (error) {
      // A 401 or 403 with a challenge: the caller explains the response like any other refusal.
      if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response;
      throw error;
    }
  }

  /** A current access token, refreshed first if it is about to expire (e.g. after the tab slept). */
  async accessToken(): Promise<string> {
    if (this.#tokens && Date.now() > this.#tokens.expiresAt - 5_000) await this.refresh();
    if (!this.#tokens) {
      throw new ApiError(401, this.#endedBecause ?? 'You are signed out. Sign in again.');
    }
    return this.#tokens.access;
  }

  /**
   * Trades the refresh token for new tokens. One refresh at a time: refresh tokens rotate, and
   * presenting a used one again makes the issuer revoke the whole grant.
   */
  refresh(): Promise<void> {
    this.#refreshing ??= this.refreshOnce().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /**
   * Revokes the refresh token, forgets every token, and ends the session at the issuer
   * (RP-initiated logout), which sends the browser back to this page.
   */
  async signOut(): Promise<void> {
    const tokens = this.#tokens;
    this.forget();
    if (!tokens) return;
    if (tokens.refresh && this.as.revocation_endpoint) {
      // Best effort: the issuer ends the grant at logout anyway; a failed revocation must not keep
      // the user signed in at the issuer.
      await oauth
        .revocationRequest(this.as, this.client, oauth.None(), tokens.refresh, this.http())
        .then((response) => oauth.processRevocationResponse(response))
        .catch((error: unknown) => console.warn('Refresh token revocation failed', error));
    }
    const url = new URL(this.endpoint('end_session_endpoint'));
    url.search = new URLSearchParams({
      client_id: this.client.client_id,
      id_token_hint: tokens.id,
      post_logout_redirect_uri: `${location.origin}/`,
    }).toString();
    location.assign(url);
  }

  private async refreshOnce(): Promise<void> {
    const tokens = this.#tokens;
    if (!tokens) return;
    if (!tokens.refresh) return this.end('Your session expired. Sign in again.');
    try {
      // The refresh token is bound to this page's key too: only a proof by it redeems it.
      const refresh = tokens.refresh;
      const response = await retryingForDpopNonce(async () =>
        oauth.processRefreshTokenResponse(
          this.as,
          this.client,
          await oauth.refreshTokenGrantRequest(this.as, this.client, oauth.None(), refresh, {
            ...this.http(),
            DPoP: this.dpop,
          }),
        ),
      );
      this.accept(response);
      this.events.refreshed();
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) {
        return this.end(`Your session ended at the issuer (${error.error}). Sign in again.`);
      }
      if (Date.now() >= tokens.expiresAt - 5_000) {
        return this.end(explainUnreachable('the sign-in service', this.as.issuer));
      }
      // The issuer did not answer: keep the access token while it lasts, and try again soon.
      this.schedule(RETRY_SECONDS);
    }
  }

  private accept(response: oauth.TokenEndpointResponse): void {
    const previous = this.#tokens;
    const claims = oauth.getValidatedIdTokenClaims(response);
    const lifetime = response.expires_in ?? REFRESH_MARGIN_SECONDS;
    const expiresAt = Date.now() + lifetime * 1000;
    const id = response.id_token ?? previous?.id;
    if (!id) throw new Error('The issuer sent no ID token.');
    this.#tokens = {
      access: response.access_token,
      dpopBound: response.token_type.toLowerCase() === 'dpop',
      // Rotation: each refresh returns a new refresh token and the old one is spent.
      refresh: response.refresh_token ?? previous?.refresh,
      id,
      expiresAt,
      user: {
        subject: claims?.sub ?? previous?.user.subject ?? '',
        name:
          typeof claims?.['name'] === 'string'
            ? claims['name']
            : (previous?.user.name ?? claims?.sub ?? ''),
        roles: Array.isArray(claims?.['roles'])
          ? claims['roles'].map(String)
          : previous?.user.roles,
        scopes: response.scope?.split(' ') ?? previous?.user.scopes ?? [],
        accessTokenExpiresAt: new Date(expiresAt),
      },
    };
    this.schedule(Math.max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2));
  }

  private schedule(seconds: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refresh(), seconds * 1000);
  }

  /** Forgets the tokens (e.g. the API no longer accepts them) and reports why. */
  end(reason: string): void {
    this.forget();
    this.#endedBecause = reason;
    this.events.ended(reason);
  }

  private forget(): void {
    clearTimeout(this.#timer);
    this.#tokens = undefined;
  }

  private endpoint(name: 'authorization_endpoint' | 'end_session_endpoint'): string {
    const url = this.as[name];
    if (!url) throw new Error(`The issuer publishes no ${name}.`);
    return url;
  }

  private http(): { [oauth.allowInsecureRequests]: boolean; signal: AbortSignal } {
    return {
      [oauth.allowInsecureRequests]: isLocalHttp(new URL(this.as.issuer)),
      signal: AbortSignal.timeout(10_000),
    };
  }
}

/** Explains why a sign-in failed, in words for the user. */
export function explainSignInError(error: unknown, issuer: string): string {
  if (
    error instanceof oauth.AuthorizationResponseError ||
    error instanceof oauth.ResponseBodyError
  ) {
    return `Sign-in failed: ${error.error_description ?? error.error}.`;
  }
  // fetch() rejects with a TypeError when the server is down or refuses this page's origin (CORS).
  if (error instanceof TypeError) return explainUnreachable('the sign-in service', issuer);
  return error instanceof Error ? error.message : String(error);
}
