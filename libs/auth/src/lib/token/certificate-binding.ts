import { InvalidTokenError } from './invalid-token.error';

/** The `cnf["x5t#S256"]` of a token's claims (RFC 8705 3.1), if it has one. */
export function certificateBinding(
  claims: Readonly<Record<string, unknown>>,
  /** Confirmation methods checked elsewhere (a DPoP `jkt` where proofs are verified). */
  checkedElsewhere: readonly string[] = [],
): string | undefined {
  const cnf = claims['cnf'];
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  // A confirmation method this service cannot check (a DPoP `jkt`...) must not pass as a bearer token.
  const unsupported = Object.keys(cnf).filter(
    (method) => method !== 'x5t#S256' && !checkedElsewhere.includes(method),
  );
  if (unsupported.length > 0) {
    throw new InvalidTokenError(
      `unsupported confirmation method cnf ${unsupported.join(', ')}`,
      'certificate_binding',
    );
  }
  const thumbprint = (cnf as Record<string, unknown>)['x5t#S256'];
  if (thumbprint === undefined) return undefined;
  if (typeof thumbprint !== 'string' || thumbprint.length === 0) {
    throw new InvalidTokenError('cnf x5t#S256 is malformed', 'certificate_binding');
  }
  return thumbprint;
}

/**
 * RFC 8705 3: a certificate-bound token is accepted only from the holder of
 * that certificate. A token with `cnf["x5t#S256"]` must arrive over a
 * connection whose mutual-TLS peer certificate has that thumbprint; where no
 * certificate can be seen (plain HTTP, a mesh sidecar) the binding cannot be
 * checked, so the token is refused rather than used as a bearer token. With
 * `requireBound`, a token without the binding is refused too, so a service
 * token copied off a connection or a log is worthless without its key.
 *
 * @example
 * checkCertificateBinding(principal.claims, message.getPeerCertificateThumbprint(), true);
 */
export function checkCertificateBinding(
  claims: Readonly<Record<string, unknown>>,
  /** The `x5t#S256` of the connection's verified peer certificate; undefined without one. */
  peerThumbprint: string | undefined,
  requireBound: boolean,
  checkedElsewhere: readonly string[] = [],
): void {
  const bound = certificateBinding(claims, checkedElsewhere);
  if (bound === undefined) {
    if (requireBound) {
      throw new InvalidTokenError(
        'the token is not bound to a certificate (RFC 8705 cnf x5t#S256 required)',
        'certificate_binding',
      );
    }
    return;
  }
  if (peerThumbprint === undefined) {
    throw new InvalidTokenError(
      'the token is bound to a certificate and this connection presents none',
      'certificate_binding',
    );
  }
  // Both are public values (the thumbprint is in the token and the certificate): no timing secret.
  if (peerThumbprint !== bound) {
    throw new InvalidTokenError(
      "the token is bound to another certificate than this connection's",
      'certificate_binding',
    );
  }
}
