import type { TlsMaterial } from '../tls-material';
import { issueServiceCertificate } from './dev-pki';
import type { CertificateAuthority } from './dev-pki';

/**
 * A service's certificate from `ca` ({@link issueServiceCertificate}), as the material a mutual-TLS
 * server or client is given.
 *
 * @example
 * const orderTls = await issueTlsMaterial(ca, 'order', 'acme.test');
 */
export async function issueTlsMaterial(
  ca: CertificateAuthority,
  service: string,
  trustDomain: string,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<TlsMaterial> {
  const issued = await issueServiceCertificate(ca, service, trustDomain, validity);
  return {
    ca: Buffer.from(ca.certPem),
    cert: Buffer.from(issued.certPem),
    key: Buffer.from(issued.keyPem),
  };
}

/**
 * A certificate's validity that lets a handshake succeed and ends a few seconds later (X.509
 * counts whole seconds): for tests of what happens when a certificate expires mid-connection.
 */
export function expiringShortly(): { notAfter: Date } {
  return { notAfter: new Date(Date.now() + 3_000) };
}

/** Resolves when `socket` closes; rejects if it is still open after `ms`. */
export function closedWithin(
  socket: { once(event: 'close', listener: () => void): unknown },
  ms: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('the connection is still open')), ms);
    socket.once('close', () => {
      clearTimeout(deadline);
      resolve();
    });
  });
}
