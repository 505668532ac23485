export { readTlsMaterial } from './lib/tls-material';
export type { TlsFiles, TlsMaterial } from './lib/tls-material';
export type { TransportSecurity } from './lib/transport-security';
export { mtlsClientOptions, mtlsServerOptions } from './lib/mtls.options';
export { spiffeId, spiffeIdOf } from './lib/spiffe';
export { certificateThumbprint } from './lib/certificate-thumbprint';
export { isMessageEnvelope, MAX_ENVELOPE_OVERHEAD_BYTES } from './lib/message-envelope';
export type { MessageEnvelope, MessageMeta } from './lib/message-envelope';
export { MessageContext } from './lib/message.context';
export { currentCallMeta, runInCallContext, withoutCallContext } from './lib/call-context';
export { SecureTcpServer } from './lib/secure-tcp.server';
export type { SecureTcpServerOptions } from './lib/secure-tcp.server';
export { createMtlsClient } from './lib/mtls-client';
export {
  closeWhenPeerCertificateExpires,
  closeWhenServerCertificateExpires,
} from './lib/peer-certificate-expiry';
export type { MtlsClientOptions } from './lib/mtls-client';
export { isRpcErrorBody } from './lib/rpc-error';
export type { RpcErrorBody } from './lib/rpc-error';
export { RpcErrorFilter } from './lib/rpc-error.filter';
export {
  EVENT_LIFETIME_SECONDS,
  EventRejectedError,
  EventSigner,
  EventVerifier,
} from './lib/signed-event';
export type { EventClaims, EventRejection, VerifiedEvent } from './lib/signed-event';
export { EventContext } from './lib/event.context';
