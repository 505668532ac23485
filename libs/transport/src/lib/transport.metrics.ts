import { Counter } from 'prom-client';

/** Why a TLS handshake failed: a fixed set, read from OpenSSL's error code. */
export type TlsHandshakeFailure =
  | 'no_certificate'
  | 'unknown_ca'
  | 'certificate_verify_failed'
  | 'expired_certificate'
  | 'protocol_version'
  | 'timeout'
  | 'connection_reset'
  | 'other';

const handshakeFailures = new Counter({
  name: 'acme_tls_handshake_failures_total',
  help: 'Mutual-TLS handshakes the service refused or that failed, by reason.',
  labelNames: ['reason'] as const,
});

/** The reason of a `tlsClientError`, from its code (`ERR_SSL_...`), never its free text. */
export function tlsHandshakeFailure(error: Error & { code?: string }): TlsHandshakeFailure {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET') return 'connection_reset';
  if (code.includes('PEER_DID_NOT_RETURN_A_CERTIFICATE')) return 'no_certificate';
  if (code.includes('UNKNOWN_CA')) return 'unknown_ca';
  if (code.includes('EXPIRED')) return 'expired_certificate';
  if (code.includes('CERTIFICATE_VERIFY_FAILED')) return 'certificate_verify_failed';
  if (/PROTOCOL|VERSION/.test(code)) return 'protocol_version';
  return 'other';
}

export function countTlsHandshakeFailure(error: Error): void {
  handshakeFailures.inc({ reason: tlsHandshakeFailure(error) });
}
