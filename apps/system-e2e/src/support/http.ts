import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON request to the gateway, with an optional bearer token. */
export async function request<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  };
}

/**
 * A token request of a service at the auth server's mutual-TLS token endpoint
 * (RFC 8705 `mtls_endpoint_aliases`), with its client secret and the given
 * TLS options (its certificate), as the service itself asks: the tokens are
 * bound to that certificate.
 */
export async function mtlsTokenRequest(
  issuer: string,
  clientId: string,
  clientSecret: string,
  form: Record<string, string>,
  tls: ConnectionOptions,
): Promise<{ status: number; body: Record<string, string> }> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    mtls_endpoint_aliases?: { token_endpoint?: string };
  };
  const endpoint = discovery.mtls_endpoint_aliases?.token_endpoint;
  if (!endpoint) throw new Error(`${issuer} publishes no mutual-TLS token endpoint`);
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      endpoint,
      {
        method: 'POST',
        ...tls,
        servername: undefined,
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>,
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
