import { Agent, request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext, rootCertificates, TLSSocket } from 'node:tls';
import { closeWhenServerCertificateExpires } from '@acme/transport';
import type { TlsMaterial } from '@acme/transport';

/** A token response is small; a larger body is cut off rather than buffered. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** Keeps connections alive, each until the server's certificate expires at the latest. */
class IssuerAgent extends Agent {
  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket instanceof TLSSocket) closeWhenServerCertificateExpires(socket);
    return socket;
  }
}

export interface MutualTlsRequest {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/**
 * A `fetch` for one https endpoint that presents this service's certificate
 * (RFC 8705 mutual TLS), which Node's global fetch cannot do without undici's
 * dispatcher. The server is verified against the public roots and the
 * service's own CA; redirects are not followed.
 *
 * @example
 * const post = mutualTlsFetch(tls);
 * const response = await post('https://issuer:3443/token', { method: 'POST', headers, body, signal });
 */
export function mutualTlsFetch(
  tls: TlsMaterial,
): (url: string, init: MutualTlsRequest) => Promise<Response> {
  // One context for every connection. Given the options instead, Node builds a context per
  // new connection, parsing the ~140 public roots again: about 24 ms of CPU each on node 20,
  // paid whenever the issuer had closed the idle connection since the last token request.
  const secureContext = createSecureContext({
    ca: [...rootCertificates, tls.ca.toString()],
    cert: tls.cert,
    key: tls.key,
    minVersion: 'TLSv1.2',
  });
  // No session resumption: a resumed TLS 1.3 session shows the client no certificate, so each
  // connection's full handshake checks the issuer's, and its expiry ends the connection.
  const agent = new IssuerAgent({ secureContext, keepAlive: true, maxCachedSessions: 0 });
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      if (!url.startsWith('https:')) {
        reject(new Error(`mutual TLS needs an https URL, got ${url}`));
        return;
      }
      const outgoing = request(
        url,
        {
          method: init.method,
          headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
          agent,
          signal: init.signal,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              incoming.destroy(new Error(`${url} answered more than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('error', reject);
          incoming.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (typeof value === 'string') headers.set(name, value);
            }
            const status = incoming.statusCode ?? 502;
            resolve(
              new Response(status === 204 ? null : Buffer.concat(chunks), { status, headers }),
            );
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(init.body);
    });
}
