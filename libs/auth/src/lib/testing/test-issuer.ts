import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Algorithm, JwtHeader } from 'jsonwebtoken';
import type { TlsMaterial } from '@acme/transport';
import { IssuerServer } from './issuer-server';
import { dpopThumbprint } from './dpop-client';
import type { DpopKey } from './dpop-client';

interface SigningKey {
  kid: string;
  alg: Algorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface TestTokenOptions {
  /** Claims to add or override; `undefined` removes a default claim. */
  claims?: Record<string, unknown>;
  /** Header parameters to add or override. */
  header?: Partial<JwtHeader> & Record<string, unknown>;
  /** Lifetime in seconds (negative for an expired token). */
  expiresIn?: number;
  /** Sign with the RS256 key instead of the ES256 one. */
  rsa?: boolean;
}

/**
 * A real OpenID issuer for tests: serves discovery and JWKS over HTTP on
 * 127.0.0.1 and signs access tokens with ES256/RS256 keys it generates.
 *
 * @example
 * const issuer = await TestIssuer.start({ audience: 'urn:acme:api' });
 * const token = issuer.userToken('alice', { roles: ['user'], scope: 'orders:read' });
 */
export class TestIssuer {
  private keys: SigningKey[];
  /** Number of JWKS requests served, to observe caching. */
  jwksRequests = 0;
  /** Number of token exchanges served, to observe caching. */
  exchanges = 0;

  private constructor(
    private readonly server: IssuerServer,
    readonly issuer: string,
    readonly audience: string,
  ) {
    this.keys = [newKey('ES256'), newKey('RS256')];
  }

  /**
   * @param options.clients client id -> secret of the confidential clients that
   *   may use the client credentials grant at `/token`.
   * @param options.mutualTls a certificate for `localhost` and the clients' CA: the token
   *   endpoint also takes mutual TLS (published as `mtls_endpoint_aliases`), and the tokens
   *   it issues there are bound to the client's certificate (RFC 8705, `cnf.x5t#S256`).
   */
  static async start(options: {
    audience: string;
    clients?: Record<string, string>;
    mutualTls?: TlsMaterial;
  }): Promise<TestIssuer> {
    const server = await IssuerServer.listen(options.mutualTls);
    const issuer = new TestIssuer(server, server.origin, options.audience);
    const bound = (boundTo?: string) => (boundTo ? { cnf: { 'x5t#S256': boundTo } } : {});
    server.serve({
      paths: { metadata: '/.well-known/openid-configuration', jwks: '/jwks', token: '/token' },
      metadata: () => ({
        issuer: issuer.issuer,
        jwks_uri: `${issuer.issuer}/jwks`,
        token_endpoint: `${issuer.issuer}/token`,
        ...(server.mutualTlsOrigin && {
          mtls_endpoint_aliases: { token_endpoint: `${server.mutualTlsOrigin}/token` },
        }),
      }),
      jwks: () => {
        issuer.jwksRequests++;
        return issuer.jwks();
      },
      clients: options.clients ?? {},
      clientCredentials: (clientId, form, boundTo) => [
        200,
        {
          access_token: issuer.sign({
            claims: {
              sub: clientId,
              client_id: clientId,
              scope: form.get('scope') ?? '',
              aud: form.get('resource') ?? form.get('audience') ?? issuer.audience,
              ...bound(boundTo),
            },
          }),
          token_type: 'Bearer',
          expires_in: 300,
        },
      ],
      tokenExchange: (clientId, form, boundTo) => issuer.exchange(clientId, form, bound(boundTo)),
    });
    return issuer;
  }

  /** The published public keys. */
  jwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: this.keys.map((k) => ({
        ...k.publicKey.export({ format: 'jwk' }),
        kid: k.kid,
        alg: k.alg,
        use: 'sig',
      })),
    };
  }

  /** Replaces the signing keys; tokens signed before no longer verify after a JWKS refresh. */
  rotateKeys(): void {
    this.keys = [newKey('ES256'), newKey('RS256')];
  }

  /** The ES256 public key in PEM, to craft attacks (e.g. HS256 "signed" with a public key). */
  publicKeyPem(): string {
    return this.keys[0].publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }

  kid(rsa = false): string {
    return this.keys[rsa ? 1 : 0].kid;
  }

  sign(options: TestTokenOptions = {}): string {
    const key = this.keys[options.rsa ? 1 : 0];
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'user-1',
      aud: this.audience,
      iat: now,
      exp: now + (options.expiresIn ?? 300),
      jti: randomUUID(),
      client_id: 'web',
      scope: '',
      ...options.claims,
    };
    for (const [name, value] of Object.entries(claims)) {
      if (value === undefined) delete claims[name];
    }
    return jwt.sign(claims, key.privateKey, {
      algorithm: key.alg,
      // jsonwebtoken adds `iat` unless told not to; a removed `iat` must stay removed.
      noTimestamp: claims['iat'] === undefined,
      header: { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header } as JwtHeader,
    });
  }

  /**
   * An access token of a user, as the auth server issues it: for this issuer's
   * audience, or `audience` (a service's, as a caller's exchange would get it,
   * bound to the caller's certificate: `boundTo`).
   */
  userToken(
    sub: string,
    options: {
      roles?: string[];
      scope?: string;
      expiresIn?: number;
      audience?: string;
      /** The thumbprint of the certificate it is bound to (`cnf.x5t#S256`), as an exchange over mutual TLS binds it. */
      boundTo?: string;
      /** The client's DPoP key it is bound to (`cnf.jkt`, RFC 9449), as the bundled auth server binds a public client's. */
      dpopKey?: DpopKey;
    } = {},
  ): string {
    return this.sign({
      claims: {
        sub,
        roles: options.roles ?? ['user'],
        scope: options.scope ?? '',
        aud: options.audience ?? this.audience,
        ...(options.boundTo && { cnf: { 'x5t#S256': options.boundTo } }),
        ...(options.dpopKey && { cnf: { jkt: dpopThumbprint(options.dpopKey) } }),
      },
      expiresIn: options.expiresIn,
    });
  }

  /** A client-credentials token: `sub` is the client itself. */
  serviceToken(clientId: string, scope = '', audience = this.audience): string {
    return this.sign({ claims: { sub: clientId, client_id: clientId, scope, aud: audience } });
  }

  /**
   * Token exchange as the bundled auth server does it, without its per-client
   * rules: a token of this issuer for `audience` (or `resource`), same `sub`
   * and scopes, the client named in `act`, living 60 s at most; bound to the
   * client's certificate when asked over mutual TLS.
   */
  private exchange(
    clientId: string,
    form: URLSearchParams,
    binding: Record<string, unknown>,
  ): [number, unknown] {
    this.exchanges++;
    const audience = form.get('audience') ?? form.get('resource');
    const subject = this.verifyOwn(form.get('subject_token') ?? '');
    if (!audience) return [400, { error: 'invalid_request' }];
    if (!subject) return [400, { error: 'invalid_grant' }];
    const expiresIn = Math.min(60, (subject['exp'] as number) - Math.floor(Date.now() / 1000));
    const { iat: _iat, exp: _exp, jti: _jti, cnf: _cnf, ...claims } = subject;
    const act = subject['act'] ? { sub: clientId, act: subject['act'] } : { sub: clientId };
    return [
      200,
      {
        access_token: this.sign({
          claims: { ...claims, aud: audience, client_id: clientId, act, ...binding },
          expiresIn,
        }),
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: expiresIn,
      },
    ];
  }

  /** The claims of a valid, unexpired token this issuer signed, else undefined. */
  private verifyOwn(token: string): Record<string, unknown> | undefined {
    const kid = jwt.decode(token, { complete: true })?.header.kid;
    const key = this.keys.find((candidate) => candidate.kid === kid);
    if (!key) return undefined;
    try {
      const claims = jwt.verify(token, key.publicKey, { algorithms: [key.alg] });
      return typeof claims === 'string' ? undefined : claims;
    } catch {
      return undefined;
    }
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

function newKey(alg: 'ES256' | 'RS256'): SigningKey {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), alg, privateKey, publicKey };
}
