import type { ConnectionOptions, SecureVersion, TlsOptions } from 'node:tls';
import type { TlsMaterial } from './tls-material';

/**
 * Server side of mutual TLS: a client without a certificate issued by our CA is
 * refused during the handshake, before any byte of a message is read.
 *
 * @example
 * const tlsOptions = mtlsServerOptions(material, 'TLSv1.3');
 */
export function mtlsServerOptions(material: TlsMaterial, minVersion: SecureVersion): TlsOptions {
  return {
    ...material,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion,
  };
}

/**
 * Client side of mutual TLS. `servername` is the service we expect to reach: the
 * connection fails unless the server's certificate names it (DNS SAN).
 *
 * @example
 * const tlsOptions = mtlsClientOptions(material, 'payment', 'TLSv1.3');
 */
export function mtlsClientOptions(
  material: TlsMaterial,
  servername: string,
  minVersion: SecureVersion,
): ConnectionOptions {
  return { ...material, servername, minVersion, rejectUnauthorized: true };
}
