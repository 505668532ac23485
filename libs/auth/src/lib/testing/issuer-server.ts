import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A status and a JSON body. */
export type IssuerReply = [status: number, body: unknown];

/** What a test issuer serves, and where. */
export interface IssuerEndpoints {
  paths: { metadata: string; jwks: string; token: string };
  metadata(): unknown;
  jwks(): unknown;
  /** client id -> secret of the confidential clients (HTTP Basic authentication). */
  clients: Readonly<Record<string, string>>;
  /** Answers the client credentials grant of a client that proved its secret. */
  clientCredentials(clientId: string, form: URLSearchParams): IssuerReply;
  /** Answers the token exchange grant (RFC 8693) of a client that proved its secret, if offered. */
  tokenExchange?(clientId: string, form: URLSearchParams): IssuerReply;
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
  ) {}

  static async listen(): Promise<IssuerServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new IssuerServer(server, `http://127.0.0.1:${port}`);
  }

  serve(endpoints: IssuerEndpoints): void {
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
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function tokenReply(
  endpoints: IssuerEndpoints,
  request: IncomingMessage,
  form: URLSearchParams,
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
  if (grantType === 'client_credentials') return endpoints.clientCredentials(clientId, form);
  if (grantType === TOKEN_EXCHANGE_GRANT && endpoints.tokenExchange) {
    return endpoints.tokenExchange(clientId, form);
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
