import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { certificateThumbprint } from '@acme/transport';
import type { TlsMaterial } from '@acme/transport';

/** A status and a JSON body. */
export type IssuerReply = [status: number, body: unknown];

/** What a test issuer serves, and where. */
export interface IssuerEndpoints {
  paths: { metadata: string; jwks: string; token: string };
  metadata(): unknown;
  jwks(): unknown;
  /** client id -> secret of the confidential clients (HTTP Basic authentication). */
  clients: Readonly<Record<string, string>>;
  /**
   * Answers the client credentials grant of a client that proved its secret; `boundTo` is
   * the SHA-256 thumbprint of its certificate when it asked over mutual TLS (RFC 8705).
   */
  clientCredentials(clientId: string, form: URLSearchParams, boundTo?: string): IssuerReply;
  /** Answers the token exchange grant (RFC 8693) of a client that proved its secret, if offered. */
  tokenExchange?(clientId: string, form: URLSearchParams, boundTo?: string): IssuerReply;
}

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
 * The HTTP side of a test issuer on 127.0.0.1: discovery, JWKS, the client
 * credentials grant and, when offered, token exchange. It listens first, so that the issuer can name its own
 * origin, and serves once told what.
 */
export class IssuerServer {
  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly mutualTls?: { server: Server; origin: string },
  ) {}

  /**
   * @param mutualTls a certificate for `localhost` and the CA of the clients' certificates:
   *   also serve the token endpoint over mutual TLS, at {@link mutualTlsOrigin}, where the
   *   tokens issued are bound to the client's certificate.
   */
  static async listen(mutualTls?: TlsMaterial): Promise<IssuerServer> {
    const server = await listening(createServer());
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (!mutualTls) return new IssuerServer(server, origin);
    const tlsServer = await listening(
      createHttpsServer({ ...mutualTls, requestCert: true, rejectUnauthorized: true }),
    );
    const tlsOrigin = `https://localhost:${(tlsServer.address() as AddressInfo).port}`;
    return new IssuerServer(server, origin, { server: tlsServer, origin: tlsOrigin });
  }

  /** Where the token endpoint takes mutual TLS, if it does. */
  get mutualTlsOrigin(): string | undefined {
    return this.mutualTls?.origin;
  }

  serve(endpoints: IssuerEndpoints): void {
    this.mutualTls?.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.split('?')[0] !== endpoints.paths.token || request.method !== 'POST') {
        return reply(response, [404, { error: 'not_found' }]);
      }
      const certificate = (request.socket as TLSSocket).getPeerCertificate();
      const boundTo = certificateThumbprint(certificate.raw);
      void readForm(request).then((form) =>
        reply(response, tokenReply(endpoints, request, form, boundTo)),
      );
    });
    this.server.on('request', (request, response) => {
      const path = request.url?.split('?')[0];
      if (path === endpoints.paths.metadata) return reply(response, [200, endpoints.metadata()]);
      if (path === endpoints.paths.jwks) return reply(response, [200, endpoints.jwks()]);
      if (path === endpoints.paths.token && request.method === 'POST') {
        return void readForm(request).then((form) =>
          reply(response, tokenReply(endpoints, request, form)),
        );
      }
      reply(response, [404, { error: 'not_found' }]);
    });
  }

  async stop(): Promise<void> {
    for (const server of [this.server, this.mutualTls?.server]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

async function listening(server: Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function tokenReply(
  endpoints: IssuerEndpoints,
  request: IncomingMessage,
  form: URLSearchParams,
  boundTo?: string,
): IssuerReply {
  const [clientId, secret] = Buffer.from(
    (request.headers.authorization ?? '').replace(/^Basic /, ''),
    'base64',
  )
    .toString()
    .split(':')
    .map(decodeURIComponent);
  if (!clientId || endpoints.clients[clientId] !== secret) {
    return [401, { error: 'invalid_client' }];
  }
  const grantType = form.get('grant_type');
  if (grantType === 'client_credentials') {
    return endpoints.clientCredentials(clientId, form, boundTo);
  }
  if (grantType === TOKEN_EXCHANGE_GRANT && endpoints.tokenExchange) {
    return endpoints.tokenExchange(clientId, form, boundTo);
  }
  return [400, { error: 'unsupported_grant_type' }];
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let form = '';
  for await (const chunk of request) form += (chunk as Buffer).toString();
  return new URLSearchParams(form);
}

function reply(response: ServerResponse, [status, body]: IssuerReply): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
