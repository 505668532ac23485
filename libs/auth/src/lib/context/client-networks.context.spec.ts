import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { httpContext, rpcContext } from '../testing/guard-contexts';
import { getClientNetworks, setClientNetworks } from './client-networks.context';

const TRUST_DOMAIN = 'acme.internal';
const options = { ...DEFAULT_AUTH_OPTIONS, trustDomain: TRUST_DOMAIN };

class OrdersController {
  get(): void {
    // a handler
  }
}

/** A verified mutual-TLS socket of `service` (see service-identity.guard.spec.ts). */
function peerOf(service: string, authorized = true): TLSSocket {
  const certificate = {
    subjectaltname: `DNS:${service}, URI:spiffe://${TRUST_DOMAIN}/${service}`,
  } as PeerCertificate;
  return Object.assign(Object.create(TLSSocket.prototype) as TLSSocket, {
    authorized,
    getPeerCertificate: () => certificate,
  });
}

const message = (socket: Socket, clientNetworks = ['admin']) =>
  rpcContext(OrdersController, 'get', { socket, meta: { clientNetworks } });

describe(getClientNetworks.name, () => {
  it('over HTTP, gives the lists the edge recorded for the request, and none if it recorded nothing', () => {
    const context = httpContext(OrdersController, 'get');
    expect(getClientNetworks(context, options)).toEqual([]);
    setClientNetworks(context.switchToHttp().getRequest(), ['admin']);
    expect(getClientNetworks(context, options)).toEqual(['admin']);
  });

  it("takes a message's client networks from the gateway, proven by its certificate", () => {
    expect(getClientNetworks(message(peerOf('gateway')), options)).toEqual(['admin']);
  });

  it('ignores them from any other service, and from a peer the TLS layer did not authorize', () => {
    expect(getClientNetworks(message(peerOf('payment')), options)).toEqual([]);
    expect(getClientNetworks(message(peerOf('gateway', false)), options)).toEqual([]);
    expect(getClientNetworks(message(new Socket()), options)).toEqual([]);
  });

  it('behind a mesh, takes them only on a handler that admits edge services alone', () => {
    const mesh = { ...options, peerIdentity: 'mesh' as const };
    expect(getClientNetworks(message(new Socket()), mesh, ['gateway'])).toEqual(['admin']);
    expect(getClientNetworks(message(new Socket()), mesh, ['gateway', 'payment'])).toEqual([]);
    expect(getClientNetworks(message(new Socket()), mesh, [])).toEqual([]);
  });
});
