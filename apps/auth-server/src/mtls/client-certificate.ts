import type { X509Certificate } from 'node:crypto';
import { httpAuditSubject, writeAuditEvent } from '@acme/auth';
import { spiffeId } from '@acme/transport';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { countCertificateMismatch } from '../auth-server.metrics';
import type { ServiceClientMetadata } from '../oidc/token-exchange';
import { clientCertificateOf, clientSpiffeIdOf } from './mtls-listener';

/**
 * The certificate that the authenticated client's tokens are bound to (RFC 8705), or undefined
 * without one (plain HTTP). It must name the client's own service
 * (`spiffe://<trustDomain>/<service>`): else a service holding another client's secret would get
 * that client's tokens, bound to its own certificate and so good from it. Refused as the token
 * endpoint refuses a `tls_client_auth` certificate of another subject (401 `invalid_client`),
 * audited and counted. oidc-provider asks for the certificate after client authentication, in
 * every grant that binds (`features.mTLS.getCertificate`), as the token-exchange grant does.
 *
 * @example
 * features: { mTLS: { getCertificate: (ctx) => certificateOfClient(ctx, 'acme.internal') } }
 */
export function certificateOfClient(
  ctx: KoaContextWithOIDC,
  trustDomain: string,
): X509Certificate | undefined {
  const certificate = clientCertificateOf(ctx.req);
  if (!certificate) return undefined;
  const client = ctx.oidc.client;
  const { service } = (client?.metadata() ?? {}) as ServiceClientMetadata;
  const expected = service === undefined ? undefined : spiffeId(trustDomain, service);
  const presented = clientSpiffeIdOf(ctx.req);
  if (expected !== undefined && presented === expected) return certificate;

  const clientId = client?.clientId ?? 'unknown';
  writeAuditEvent({
    event: 'authz_fail',
    ...httpAuditSubject(
      { method: ctx.method, originalUrl: ctx.originalUrl, ip: ctx.ip, headers: ctx.headers },
      `service:${service ?? clientId}`,
    ),
    caller: presented,
    reason: `client ${clientId} presented the certificate of ${presented ?? 'no SPIFFE ID'}, not of ${expected ?? 'a service'}`,
  });
  countCertificateMismatch(clientId);
  throw new errors.InvalidClientAuth('the certificate names another service than the client');
}
