import { ClientTCP } from '@nestjs/microservices';
import type { TcpSocket } from '@nestjs/microservices';
import { TLSSocket } from 'node:tls';
import { closeWhenServerCertificateExpires } from './peer-certificate-expiry';
import { mtlsClientOptions } from './mtls.options';
import type { TransportSecurity } from './transport-security';

export interface MtlsClientOptions {
  host: string;
  port: number;
  /** The service we call; under `mtls` its certificate must name it. */
  service: string;
  /** Mutual TLS here, or by the mesh's sidecars; plaintext only in a benchmark. */
  security: TransportSecurity;
  /** Largest reply, in characters of its JSON; the server answers a bigger one with an error. */
  maxFrameSize: number;
}

/**
 * Nest checks its read buffer, not each frame: the end of one reply and the
 * start of the next can arrive in one read. Room for one read keeps a reply of
 * exactly `maxFrameSize` from dropping the connection.
 */
const READ_HEADROOM = 64 * 1024;

/**
 * Nest's TCP client with Nagle's algorithm off (the calls of a service share one connection,
 * and a call written while another awaits its ACK would wait for it, up to 40 ms), whose
 * mutual-TLS connection ends when the server's certificate expires.
 */
class ServiceClientTcp extends ClientTCP {
  override createSocket(): TcpSocket {
    const socket = super.createSocket();
    const { netSocket } = socket;
    netSocket.setNoDelay(true);
    if (netSocket instanceof TLSSocket) closeWhenServerCertificateExpires(netSocket);
    return socket;
  }
}

/**
 * A Nest TCP client that speaks mutual TLS to one service (itself, or through
 * the mesh's sidecar) over one persistent connection, reconnecting on the
 * next call after a failure.
 *
 * @example
 * const proxy = createMtlsClient({ host: 'localhost', port: 4002, service: 'payment', security: { mode: 'mtls', tls, minVersion: 'TLSv1.3' }, maxFrameSize: 1 << 20 });
 */
export function createMtlsClient(options: MtlsClientOptions): ClientTCP {
  const { security } = options;
  return new ServiceClientTcp({
    host: options.host,
    port: options.port,
    tlsOptions:
      security.mode === 'mtls'
        ? mtlsClientOptions(security.tls, options.service, security.minVersion)
        : undefined,
    maxBufferSize: options.maxFrameSize + READ_HEADROOM,
  });
}
