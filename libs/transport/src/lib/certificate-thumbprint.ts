import { hash } from 'node:crypto';

/**
 * The RFC 8705 `x5t#S256` of a certificate: base64url of the SHA-256 of its
 * DER encoding. A certificate-bound access token carries the thumbprint of
 * its holder's certificate as `cnf["x5t#S256"]`.
 *
 * @example
 * certificateThumbprint(socket.getPeerX509Certificate().raw);
 */
export function certificateThumbprint(der: Buffer): string {
  return hash('sha256', der, 'base64url');
}
