import type { PeerCertificate } from 'node:tls';
import { spiffeId, spiffeIdOf } from './spiffe';

function certificateWith(subjectaltname: string | undefined): PeerCertificate {
  return { subjectaltname } as PeerCertificate;
}

describe(spiffeId.name, () => {
  it('names a workload as spiffe://<trust domain>/<service>', () => {
    expect(spiffeId('acme.internal', 'order')).toBe('spiffe://acme.internal/order');
  });
});

describe(spiffeIdOf.name, () => {
  it('reads the SPIFFE ID among the subject alternative names', () => {
    const certificate = certificateWith(
      'DNS:order, DNS:localhost, IP Address:127.0.0.1, URI:spiffe://acme.internal/order',
    );

    expect(spiffeIdOf(certificate)).toBe('spiffe://acme.internal/order');
  });

  it('takes the first SPIFFE URI, skipping other URIs', () => {
    const certificate = certificateWith(
      'URI:https://order.acme.example, URI:spiffe://acme.internal/order, URI:spiffe://acme.internal/payment',
    );

    expect(spiffeIdOf(certificate)).toBe('spiffe://acme.internal/order');
  });

  it('does not mistake a DNS name that looks like a SPIFFE ID for one', () => {
    expect(spiffeIdOf(certificateWith('DNS:spiffe://acme.internal/order'))).toBeUndefined();
  });

  it.each([
    ['a certificate without subject alternative names', certificateWith(undefined)],
    ['a certificate with DNS names only', certificateWith('DNS:order, DNS:localhost')],
    ['an empty certificate (a peer that sent none)', {} as PeerCertificate],
    ['no certificate', undefined],
  ])('is undefined for %s', (_case, certificate) => {
    expect(spiffeIdOf(certificate)).toBeUndefined();
  });
});
