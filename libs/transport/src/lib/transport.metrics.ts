import { Counter, Histogram } from 'prom-client';

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

const messageDuration = new Histogram({
  name: 'acme_rpc_message_duration_seconds',
  help: 'Time to handle a message, by pattern and outcome (ok, the HTTP status of the error, or closed).',
  labelNames: ['pattern', 'outcome'] as const,
  // From 5 ms (a cache hit) to 10 s (the default request timeout), as HTTP requests.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/** Times a handled message under its pattern: one of the service's own, a fixed set. */
export function recordMessage(pattern: string, outcome: string, seconds: number): void {
  messageDuration.observe({ pattern, outcome }, seconds);
}
