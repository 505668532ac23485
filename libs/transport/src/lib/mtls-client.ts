import { ClientTCP } from '@nestjs/microservices';
import type { SecureVersion } from 'node:tls';
import { mtlsClientOptions } from './mtls.options';
import type { TlsMaterial } from './tls-material';

export interface MtlsClientOptions {
  host: string;
  port: number;
  /** The service we call; its certificate must name it. */
  service: string;
  tls: TlsMaterial;
  minVersion: SecureVersion;
  maxFrameSize: number;
  /** Benchmark only: plaintext TCP, to measure what mutual TLS costs (see `SecureTcpServerOptions`). */
  benchmarkInsecure?: boolean;
}

/**
 * A Nest TCP client that speaks mutual TLS to one service over one persistent
 * connection, reconnecting on the next call after a failure.
 *
 * @example
 * const proxy = createMtlsClient({ host: 'localhost', port: 4002, service: 'payment', tls, minVersion: 'TLSv1.3', maxFrameSize: 1 << 20 });
 */
export function createMtlsClient(options: MtlsClientOptions): ClientTCP {
  return new ClientTCP({
    host: options.host,
    port: options.port,
    tlsOptions: options.benchmarkInsecure
      ? undefined
      : mtlsClientOptions(options.tls, options.service, options.minVersion),
    maxBufferSize: options.maxFrameSize,
  });
}
