import { ClientTCP } from '@nestjs/microservices';
import type { MessageEnvelope } from '@acme/transport';
import type { ConnectionOptions } from 'node:tls';
import { firstValueFrom, timeout } from 'rxjs';

/**
 * Sends one message straight to a service port, as any peer could: with the
 * given TLS options (or none of a client certificate), or in plaintext as a
 * mesh's sidecar does, outside the gateway.
 */
export async function rawCall(
  port: number,
  tlsOptions: ConnectionOptions | 'plaintext',
  pattern: string,
  data: unknown,
  options: { token?: string; envelope?: boolean; clientNetworks?: string[] } = {},
): Promise<unknown> {
  const client = new ClientTCP({
    host: '127.0.0.1',
    port,
    tlsOptions:
      tlsOptions === 'plaintext' ? undefined : { rejectUnauthorized: true, ...tlsOptions },
  });
  const payload: MessageEnvelope | unknown =
    options.envelope === false
      ? data
      : {
          meta: {
            authorization: options.token ? `Bearer ${options.token}` : undefined,
            clientNetworks: options.clientNetworks,
          },
          data,
        };
  try {
    return await firstValueFrom(client.send(pattern, payload).pipe(timeout(5_000)));
  } finally {
    client.close();
  }
}
