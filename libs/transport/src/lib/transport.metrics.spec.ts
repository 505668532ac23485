import { tlsHandshakeFailure } from './transport.metrics';

describe(tlsHandshakeFailure.name, () => {
  it.each([
    ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'no_certificate'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'unknown_ca'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'expired_certificate'],
    ['ERR_SSL_CERTIFICATE_VERIFY_FAILED', 'certificate_verify_failed'],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'protocol_version'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'protocol_version'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'protocol_version'],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', 'timeout'],
    ['ECONNRESET', 'connection_reset'],
    ['ERR_SSL_HTTP_REQUEST', 'other'],
    [undefined, 'other'],
  ])('names %s %s', (code, reason) => {
    expect(tlsHandshakeFailure(Object.assign(new Error('refused'), { code }))).toBe(reason);
  });
});
