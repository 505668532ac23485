import { hash, X509Certificate } from 'node:crypto';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { TcpSocket } from '@nestjs/microservices';
import { createCertificateAuthority, issueServiceCertificate } from '../testing';
import { MessageContext } from './message.context';

/**
 * A mutual-TLS socket whose peer certificate carries `subjectAltName`. A real
 * TLSSocket exists only on a live connection (see the SecureTcpServer spec), so
 * this object is built from TLSSocket's prototype: it passes `instanceof
 * TLSSocket` honestly and carries just what MessageContext reads.
 */
function peerSocket(subjectAltName: string, authorized: boolean): TLSSocket {
  return Object.assign(Object.create(TLSSocket.prototype) as TLSSocket, {
    authorized,
    getPeerCertificate: jest.fn(() => ({ subjectaltname: subjectAltName }) as PeerCertificate),
  });
}

function contextOn(socket: Socket): MessageContext {
  return new MessageContext({ socket } as TcpSocket, 'payments.charge', { requestId: 'req-1' });
}

describe(MessageContext.name, () => {
  it('exposes the metadata and the pattern of the message', () => {
    const context = contextOn(new Socket());

    expect(context.getMeta()).toEqual({ requestId: 'req-1' });
    expect(context.getPattern()).toBe('payments.charge');
  });

  it('reads the SPIFFE ID of a peer whose certificate the TLS layer authorized, once per connection', () => {
    const socket = peerSocket('DNS:order, URI:spiffe://acme.internal/order', true);

    expect(contextOn(socket).getPeerSpiffeId()).toBe('spiffe://acme.internal/order');
    expect(contextOn(socket).getPeerSpiffeId()).toBe('spiffe://acme.internal/order');
    expect(socket.getPeerCertificate).toHaveBeenCalledTimes(1);
  });

  it('has no peer identity when the TLS layer did not authorize the certificate', () => {
    expect(
      contextOn(peerSocket('URI:spiffe://acme.internal/order', false)).getPeerSpiffeId(),
    ).toBeUndefined();
  });

  it('has no peer identity on a plain TCP socket', () => {
    expect(contextOn(new Socket()).getPeerSpiffeId()).toBeUndefined();
  });

  describe('getPeerCertificateThumbprint', () => {
    let certificate: X509Certificate;

    beforeAll(async () => {
      const ca = await createCertificateAuthority('test CA');
      certificate = new X509Certificate(
        (await issueServiceCertificate(ca, 'order', 'acme.test')).certPem,
      );
    });

    const socketWith = (authorized: boolean): TLSSocket =>
      Object.assign(Object.create(TLSSocket.prototype) as TLSSocket, {
        authorized,
        getPeerX509Certificate: jest.fn(() => certificate),
      });

    it('is the base64url SHA-256 of the DER certificate (RFC 8705 x5t#S256), once per connection', () => {
      const socket = socketWith(true);
      const expected = hash('sha256', certificate.raw, 'base64url');

      expect(contextOn(socket).getPeerCertificateThumbprint()).toBe(expected);
      expect(contextOn(socket).getPeerCertificateThumbprint()).toBe(expected);
      expect(socket.getPeerX509Certificate).toHaveBeenCalledTimes(1);
    });

    it('is undefined when the TLS layer did not authorize the certificate, or on plain TCP', () => {
      expect(contextOn(socketWith(false)).getPeerCertificateThumbprint()).toBeUndefined();
      expect(contextOn(new Socket()).getPeerCertificateThumbprint()).toBeUndefined();
    });
  });
});
