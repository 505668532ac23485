import { TcpContext } from '@nestjs/microservices';
import type { TcpSocket } from '@nestjs/microservices';
import { TLSSocket } from 'node:tls';
import type { MessageMeta } from './message-envelope';
import { certificateThumbprint } from './certificate-thumbprint';
import { spiffeIdOf } from './spiffe';

const peerIds = new WeakMap<TLSSocket, string | undefined>();
const peerThumbprints = new WeakMap<TLSSocket, string | undefined>();

/**
 * The RPC context of a message received by {@link SecureTcpServer}: the TCP
 * context plus the message's metadata and the verified identity of the peer.
 *
 * @example
 * const peer = context.switchToRpc().getContext<MessageContext>().getPeerSpiffeId();
 */
export class MessageContext extends TcpContext {
  constructor(
    socket: TcpSocket,
    pattern: string,
    private readonly meta: MessageMeta,
  ) {
    super([socket, pattern]);
  }

  getMeta(): MessageMeta {
    return this.meta;
  }

  /**
   * The SPIFFE ID in the peer's certificate. The handshake already proved the
   * peer holds the certificate's key and that our CA issued it.
   */
  getPeerSpiffeId(): string | undefined {
    const socket = this.getSocketRef().socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
    if (!peerIds.has(socket)) peerIds.set(socket, spiffeIdOf(socket.getPeerCertificate()));
    return peerIds.get(socket);
  }

  /**
   * The `x5t#S256` thumbprint (RFC 8705) of the peer's certificate, which the
   * handshake proved the peer holds; undefined without an authorized peer
   * certificate (plain TCP, or behind a mesh whose sidecar terminated TLS).
   */
  getPeerCertificateThumbprint(): string | undefined {
    const socket = this.getSocketRef().socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
    if (!peerThumbprints.has(socket)) {
      const raw = socket.getPeerX509Certificate()?.raw;
      peerThumbprints.set(socket, raw && certificateThumbprint(raw));
    }
    return peerThumbprints.get(socket);
  }
}
