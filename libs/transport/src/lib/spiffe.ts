import type { PeerCertificate } from 'node:tls';

/**
 * The SPIFFE ID of a workload: `spiffe://<trust-domain>/<service>`.
 *
 * @example
 * spiffeId('acme.internal', 'order'); // 'spiffe://acme.internal/order'
 */
export function spiffeId(trustDomain: string, service: string): string {
  return `spiffe://${trustDomain}/${service}`;
}

/** The first `URI:spiffe://` subject alternative name of a certificate, if any. */
export function spiffeIdOf(certificate: PeerCertificate | undefined): string | undefined {
  const names = certificate?.subjectaltname;
  if (!names) return undefined;
  for (const entry of names.split(', ')) {
    if (entry.startsWith('URI:spiffe://')) return entry.slice('URI:'.length);
  }
  return undefined;
}
