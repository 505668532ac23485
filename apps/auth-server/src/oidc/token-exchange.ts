import {
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  type X509Certificate,
} from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { errors, type Client, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { SigningKeySet } from './signing-keys';

/** RFC 8693 section 2.1: the grant, and the one token type exchanged here, both ways. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'audience',
  'resource',
  'scope',
];

/** Longer chains of services than any call path here: refused rather than signed ever deeper. */
const MAX_ACTORS = 8;

/** The `act` claim (RFC 8693 4.1): the current actor, the prior ones nested inside. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** What an exchanged token carries from its subject token, besides `sub` and `scope`. */
export interface ExchangedClaims {
  act: ActorClaim;
  /** The subject token's roles, never re-read: an exchange may not widen them. */
  roles?: unknown;
}

export interface TokenExchangeOptions {
  issuer: string;
  /** The issuer's own keys: a subject token must be one this server signed. */
  signingKeys: SigningKeySet;
  /** Lifetime of an exchanged token, in seconds; never beyond its subject token's `exp`. */
  ttl: number;
  /** The resource server of an audience, as resource indicators resolve it for the client. */
  resourceServer(
    ctx: KoaContextWithOIDC,
    audience: string,
    client: Client,
  ): Promise<InstanceType<Provider['ResourceServer']>>;
  /** Where the grant hands an issued token's extra claims to `extraTokenClaims`. */
  exchanged: WeakMap<object, ExchangedClaims>;
  /** The certificate the requesting client presented over mutual TLS, if any (RFC 8705). */
  getCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined;
}

/**
 * Client metadata of our own that the grant reads: the audience the client's
 * service accepts (the only subject tokens it may exchange are ones addressed
 * to it), and the audiences of the services it calls.
 */
export interface ServiceClientMetadata {
  resource_audience?: string;
  call_audiences?: string[];
  /** The service whose certificate the client's bound tokens are issued over (clients.ts). */
  service?: string;
}

/**
 * RFC 8693 token exchange, for a service that calls another on behalf of the
 * user whose token it received. The service authenticates as itself (its
 * client secret), presents that token as `subject_token` and names the callee
 * in `audience` (or `resource`); it gets a token for the callee alone, with
 * the same `sub`, the subject token's scopes or fewer, an `act` claim naming
 * the service (the subject token's own actors nested inside), and a short
 * life that never outlasts the subject token. A client with certificate-bound
 * tokens (RFC 8705) gets one bound to the certificate it presented, and none
 * without one. Anything else is refused with
 * the RFC's errors: the requester may only narrow, never widen.
 *
 * @example
 * registerTokenExchange(provider, { issuer, signingKeys, ttl: 120, resourceServer, exchanged });
 */
export function registerTokenExchange(provider: Provider, options: TokenExchangeOptions): void {
  const keys = publicKeys(options.signingKeys);
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    (ctx) => exchangeToken(ctx, options, keys),
    PARAMETERS,
  );
}

async function exchangeToken(
  ctx: KoaContextWithOIDC,
  options: TokenExchangeOptions,
  keys: ReadonlyMap<string, { key: KeyObject; alg: jwt.Algorithm }>,
): Promise<void> {
  const client = ctx.oidc.client as Client;
  // As oidc-provider's own grants do: a client with bound tokens gets none without its certificate.
  const certificate = client.tlsClientCertificateBoundAccessTokens
    ? options.getCertificate(ctx)
    : undefined;
  if (client.tlsClientCertificateBoundAccessTokens && !certificate) {
    throw new errors.InvalidGrant('mutual TLS client certificate not provided');
  }
  const params = ctx.oidc.params as Record<string, string | undefined>;
  const { resource_audience: ownAudience, call_audiences: callAudiences = [] } =
    client.metadata() as ServiceClientMetadata;
  if (ownAudience === undefined) {
    throw new errors.UnauthorizedClient('this client is no service that receives tokens');
  }
  if (!params['subject_token']) throw new errors.InvalidRequest('missing subject_token');
  if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  const requestedType = params['requested_token_type'];
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  const target = targetOf(params);
  if (!callAudiences.includes(target)) {
    throw new errors.InvalidTarget(`this client may not obtain tokens for ${target}`);
  }

  const subject = verifySubjectToken(params['subject_token'], options.issuer, keys);
  if (!audiencesOf(subject).includes(ownAudience)) {
    throw new errors.InvalidGrant('subject_token was not issued to this client');
  }
  if (subject.sub === subject['client_id']) {
    // A service acts as itself with client credentials; exchanging its token would make it a user.
    throw new errors.InvalidGrant('subject_token is a client credentials token');
  }
  const act: ActorClaim = {
    sub: client.clientId,
    ...(subject['act'] ? { act: subject['act'] } : {}),
  };
  if (actorDepth(act) > MAX_ACTORS) {
    throw new errors.InvalidGrant('subject_token has too many actors');
  }

  const held = new Set(typeof subject['scope'] === 'string' ? subject['scope'].split(' ') : []);
  held.delete('');
  const requested =
    params['scope'] === undefined ? [...held] : params['scope'].split(' ').filter(Boolean);
  const wider = requested.filter((scope) => !held.has(scope));
  if (wider.length > 0) {
    throw new errors.InvalidScope('requested scope exceeds the subject token', wider.join(' '));
  }

  const now = Math.floor(Date.now() / 1000);
  const expiresIn = Math.min(options.ttl, (subject.exp as number) - now);
  const { AccessToken } = ctx.oidc.provider;
  // No grant of this server stands behind it (the user granted the subject token's client), and a
  // JWT access token is never stored: the typings' required grantId has nothing to name.
  const token = new AccessToken({
    accountId: subject.sub as string,
    client,
    scope: requested.join(' ') || undefined,
    expiresIn,
    gty: 'token_exchange',
  } as unknown as ConstructorParameters<typeof AccessToken>[0]);
  token.resourceServer = await options.resourceServer(ctx, target, client);
  // The callee sees the requesting service as its mutual-TLS peer: the token is good from it only.
  if (certificate) token.setThumbprint('x5t', certificate);
  options.exchanged.set(token, { act, roles: subject['roles'] });
  ctx.oidc.entity('AccessToken', token);
  const value = await token.save();

  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: expiresIn,
    ...(token.scope ? { scope: token.scope } : {}),
  };
}

/** The one callee named by `audience` or `resource` (RFC 8693 2.1; the same if both are given). */
function targetOf(params: Record<string, string | undefined>): string {
  const { audience, resource } = params;
  if (audience !== undefined && resource !== undefined && audience !== resource) {
    throw new errors.InvalidTarget('audience and resource name different services');
  }
  const target = audience ?? resource;
  if (!target) throw new errors.InvalidRequest('missing audience or resource');
  return target;
}

/**
 * A subject token is an access token this server signed, unexpired, with no
 * leeway: an exchanged token may not outlive it, and one that is about to
 * expire buys nothing.
 */
function verifySubjectToken(
  token: string,
  issuer: string,
  keys: ReadonlyMap<string, { key: KeyObject; alg: jwt.Algorithm }>,
): JwtPayload {
  const decoded = jwt.decode(token, { complete: true });
  const kid = decoded?.header.kid;
  const key = kid === undefined ? undefined : keys.get(kid);
  if (!decoded || !key || decoded.header.typ !== 'at+jwt') {
    throw new errors.InvalidGrant('subject_token is not an access token of this issuer');
  }
  try {
    const payload = jwt.verify(token, key.key, { algorithms: [key.alg], issuer });
    if (typeof payload === 'string' || typeof payload.sub !== 'string') throw new Error('no sub');
    if (typeof payload.exp !== 'number') throw new Error('no exp');
    return payload;
  } catch (error) {
    throw new errors.InvalidGrant({
      detail: `subject_token is invalid: ${(error as Error).message}`,
    });
  }
}

function audiencesOf(payload: JwtPayload): string[] {
  if (typeof payload.aud === 'string') return [payload.aud];
  return Array.isArray(payload.aud) ? payload.aud : [];
}

function actorDepth(act: ActorClaim): number {
  let depth = 0;
  for (let actor: ActorClaim | undefined = act; actor; actor = actor.act) depth++;
  return depth;
}

function publicKeys(set: SigningKeySet): Map<string, { key: KeyObject; alg: jwt.Algorithm }> {
  return new Map(
    set.keys.map((jwk) => [
      jwk.kid,
      { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), alg: jwk.alg },
    ]),
  );
}
