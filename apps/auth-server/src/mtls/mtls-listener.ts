import type { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { TLSSocket } from 'node:tls';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { closeWhenPeerCertificateExpires, spiffeIdOf } from '@acme/transport';
import type { AuthServerConfig } from '../config';

/** The one path served over mutual TLS: oidc-provider's token endpoint. */
export const MTLS_TOKEN_PATH = '/token';

type MtlsConfig = NonNullable<AuthServerConfig['mtls']>;

/**
 * The certificate the client proved it holds on this request's connection
 * (RFC 8705), or undefined: on the plain HTTP listener there is none, and a
 * header naming one is never believed.
 */
export function clientCertificateOf(request: IncomingMessage): X509Certificate | undefined {
  return verifiedPeerOf(request)?.getPeerX509Certificate();
}

/** The SPIFFE ID in the certificate of {@link clientCertificateOf}, if it names one. */
export function clientSpiffeIdOf(request: IncomingMessage): string | undefined {
  return spiffeIdOf(verifiedPeerOf(request)?.getPeerCertificate());
}

function verifiedPeerOf(request: IncomingMessage): TLSSocket | undefined {
  const socket = request.socket;
  return socket instanceof TLSSocket && socket.authorized ? socket : undefined;
}

/**
 * Starts the mutual-TLS listener where services ask for tokens with their
 * certificate: TLS 1.3, a client certificate of the system's CA required,
 * and only `POST /token` served, by the same app as the HTTP listener.
 * A missing file stops start-up naming its key.
 *
 * @example
 * const server = await listenMutualTls(config.mtls, app.getHttpAdapter().getInstance());
 */
export async function listenMutualTls(
  config: MtlsConfig,
  handler: RequestListener,
): Promise<Server> {
  const files = {
    TLS_CA_FILE: config.caFile,
    TLS_CERT_FILE: config.certFile,
    TLS_KEY_FILE: config.keyFile,
  };
  const missing = Object.entries(files).filter(([, file]) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `Invalid configuration:\n${missing
        .map(([key, file]) => `  ${key}: no file at ${file} (run npm run dev:setup in development)`)
        .join('\n')}`,
    );
  }
  const server = createServer(
    {
      ca: readFileSync(config.caFile),
      cert: readFileSync(config.certFile),
      key: readFileSync(config.keyFile),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    },
    (request: IncomingMessage, response: ServerResponse) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== MTLS_TOKEN_PATH) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'not_found' }));
        return;
      }
      handler(request, response);
    },
  );
  // A client that opens a connection and never completes the handshake must not hold it.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  // Nor one whose certificate expired since: a token issued on it would be bound to that one.
  server.on('secureConnection', closeWhenPeerCertificateExpires);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * {@link listenMutualTls} for the app, closed when the app's HTTP server closes.
 *
 * @example
 * await app.listen(config.port, config.host);
 * if (config.mtls) await serveMutualTls(app, config.mtls);
 */
export async function serveMutualTls(
  app: NestExpressApplication,
  config: MtlsConfig,
): Promise<Server> {
  const server = await listenMutualTls(
    config,
    app.getHttpAdapter().getInstance() as RequestListener,
  );
  (app.getHttpServer() as Server).once('close', () => {
    server.close();
    server.closeAllConnections();
  });
  new Logger('AuthServer').log(
    `Token endpoint over mutual TLS (RFC 8705) on ${config.host}:${config.port}, published as ${config.url}${MTLS_TOKEN_PATH}`,
  );
  return server;
}
