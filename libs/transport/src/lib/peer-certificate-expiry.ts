import { Logger } from '@nestjs/common';
import type { TLSSocket } from 'node:tls';

/** Node caps a timer at about 24.8 days: a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const log = new Logger('MutualTls');

/**
 * Ends a mutual-TLS connection when the peer's certificate expires. The handshake checked the
 * certificate once; a busy connection, which no idle timeout closes, would outlive it. The peer
 * reconnects with its renewed certificate, and the next handshake checks that one. Every
 * mutual-TLS connection of the system does it at both ends: between services, and between a
 * service and the issuer's token endpoint (whose tokens are bound to the client's certificate).
 *
 * @example
 * server.on('secureConnection', (socket) => closeWhenPeerCertificateExpires(socket));
 */
export function closeWhenPeerCertificateExpires(socket: TLSSocket): void {
  const validTo = socket.getPeerCertificate().valid_to;
  const expiresAt = Date.parse(validTo);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const remaining = expiresAt - Date.now();
    // Not a date (never from a certificate the handshake accepted): closed, as if expired.
    if (!(remaining > 0)) {
      log.warn(`closing a connection: the peer's certificate expired (${validTo})`);
      socket.destroy();
      return;
    }
    timer = setTimeout(check, Math.min(remaining, MAX_TIMER_MS)).unref();
  };
  socket.once('close', () => clearTimeout(timer));
  check();
}

/**
 * The client's end of {@link closeWhenPeerCertificateExpires}: until its handshake is done a
 * client socket has no peer certificate (and would be closed as if it had expired), so this
 * waits for `secureConnect`.
 *
 * @example
 * closeWhenServerCertificateExpires(tls.connect(options));
 */
export function closeWhenServerCertificateExpires(socket: TLSSocket): void {
  socket.once('secureConnect', () => closeWhenPeerCertificateExpires(socket));
}
