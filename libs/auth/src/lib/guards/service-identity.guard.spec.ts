import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { TcpContext } from '@nestjs/microservices';
import type { TcpSocket } from '@nestjs/microservices';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { AllowServices } from '../decorators/auth.decorators';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import {
  eventContext,
  httpContext as http,
  refusal,
  rpcContext as rpc,
} from '../testing/guard-contexts';
import { ServiceIdentityGuard } from './service-identity.guard';

const TRUST_DOMAIN = 'acme.internal';

class PaymentsController {
  @AllowServices('order', 'gateway')
  charge(): void {
    // order and gateway may send this
  }

  refund(): void {
    // no @AllowServices: nobody may send this
  }
}

class OrderEventsController {
  @EventPattern('events.payment.completed')
  @AllowServices('payment')
  paymentCompleted(): void {
    // payment's signed event, from the broker
  }

  @EventPattern('events.payment.refunded')
  paymentRefunded(): void {
    // no @AllowServices: nobody may produce this
  }

  @MessagePattern('order.payment-completed')
  @AllowServices('payment')
  paymentCompletedMessage(): void {
    // the direct path, over mutual TLS
  }
}

const producedBy = (service: string) => ({ producer: `spiffe://${TRUST_DOMAIN}/${service}` });

/**
 * The mutual-TLS socket of a peer whose certificate carries `subjectAltName`.
 * A real TLSSocket exists only on a live connection, so this object is built
 * from TLSSocket's prototype: it passes `instanceof TLSSocket` honestly and
 * carries just what MessageContext reads (the real-socket path is covered by
 * the SecureTcpServer spec in @acme/transport).
 */
function peerSocket(subjectAltName: string, authorized = true): TLSSocket {
  const certificate = { subjectaltname: subjectAltName } as PeerCertificate;
  return Object.assign(Object.create(TLSSocket.prototype) as TLSSocket, {
    authorized,
    getPeerCertificate: () => certificate,
  });
}

function peerOf(service: string): TLSSocket {
  return peerSocket(
    `DNS:${service}, DNS:localhost, IP Address:127.0.0.1, URI:spiffe://${TRUST_DOMAIN}/${service}`,
  );
}

/** A message received on `socket` for `PaymentsController[handler]`. */
const rpcContext = (handler: keyof PaymentsController & string, socket: Socket) =>
  rpc(PaymentsController, handler, { socket });

const httpContext = (handler: keyof PaymentsController & string) =>
  http(PaymentsController, handler);

describe(ServiceIdentityGuard.name, () => {
  const options: AuthOptions = {
    ...DEFAULT_AUTH_OPTIONS,
    issuer: 'https://login.acme.example',
    audience: 'urn:acme:payments',
    serviceName: 'payment',
    trustDomain: TRUST_DOMAIN,
  };
  const guard = new ServiceIdentityGuard(options);

  describe('over RPC', () => {
    it('lets a message from an allowed service through', () => {
      expect(guard.canActivate(rpcContext('charge', peerOf('order')))).toBe(true);
      expect(guard.canActivate(rpcContext('charge', peerOf('gateway')))).toBe(true);
    });

    it('returns 403 to a service that is not allowed, naming it', () => {
      const refused = refusal(() => guard.canActivate(rpcContext('charge', peerOf('reporting'))));
      expect(refused.getResponse()).toEqual({
        statusCode: 403,
        error: 'insufficient_scope',
        message: `calling service spiffe://${TRUST_DOMAIN}/reporting is not allowed`,
      });
      expect(refused).toMatchObject({ reason: 'caller_not_allowed' });
    });

    it('returns 403 to an allowed service name in another trust domain', () => {
      const foreign = peerSocket('URI:spiffe://evil.example/order');

      expect(refusal(() => guard.canActivate(rpcContext('charge', foreign))).getStatus()).toBe(403);
    });

    it('returns 403 on a handler without @AllowServices, whoever calls (deny by default)', () => {
      expect(
        refusal(() => guard.canActivate(rpcContext('refund', peerOf('order')))).getResponse(),
      ).toMatchObject({
        statusCode: 403,
        message: 'no service may send this message',
      });
    });

    it('returns 403 when the TLS layer did not authorize the peer certificate', () => {
      const unverified = peerSocket(`URI:spiffe://${TRUST_DOMAIN}/order`, false);

      expect(
        refusal(() => guard.canActivate(rpcContext('charge', unverified))).getResponse(),
      ).toMatchObject({
        statusCode: 403,
        message: 'calling service unknown is not allowed',
      });
    });

    it('returns 403 on a plain TCP socket, which has no peer certificate', () => {
      expect(refusal(() => guard.canActivate(rpcContext('charge', new Socket()))).getStatus()).toBe(
        403,
      );
    });

    it('returns 403 for a message that did not come through SecureTcpServer', () => {
      const socket: Socket = peerOf('order');
      const context = new ExecutionContextHost(
        [{}, new TcpContext([{ socket } as TcpSocket, 'payments.charge'])],
        PaymentsController,
        PaymentsController.prototype.charge,
      );
      context.setType('rpc');

      expect(refusal(() => guard.canActivate(context)).getStatus()).toBe(403);
    });
  });

  describe('behind a service mesh, which names and authorizes the caller', () => {
    const meshGuard = new ServiceIdentityGuard({
      ...options,
      peerIdentity: 'mesh',
    });

    it('lets a message from the sidecar through on a handler with @AllowServices', () => {
      expect(meshGuard.canActivate(rpcContext('charge', new Socket()))).toBe(true);
    });

    it('still returns 403 on a handler without @AllowServices (deny by default)', () => {
      expect(
        refusal(() => meshGuard.canActivate(rpcContext('refund', new Socket()))).getResponse(),
      ).toMatchObject({ statusCode: 403, message: 'no service may send this message' });
    });
  });

  describe('for a signed event from the broker', () => {
    it('lets an event of an allowed producer through', () => {
      const context = eventContext(
        OrderEventsController,
        'paymentCompleted',
        producedBy('payment'),
      );
      expect(guard.canActivate(context)).toBe(true);
    });

    it('returns 403 to an event signed by another service, naming it', () => {
      const context = eventContext(
        OrderEventsController,
        'paymentCompleted',
        producedBy('gateway'),
      );
      expect(refusal(() => guard.canActivate(context)).getResponse()).toMatchObject({
        statusCode: 403,
        message: `producing service spiffe://${TRUST_DOMAIN}/gateway is not allowed`,
      });
    });

    it('returns 403 on an event handler without @AllowServices (deny by default)', () => {
      const context = eventContext(OrderEventsController, 'paymentRefunded', producedBy('payment'));
      expect(refusal(() => guard.canActivate(context)).getStatus()).toBe(403);
    });

    it('returns 403 to the same event sent over the transport, unsigned', () => {
      const context = rpc(OrderEventsController, 'paymentCompleted', { socket: peerOf('payment') });
      expect(refusal(() => guard.canActivate(context)).getResponse()).toMatchObject({
        statusCode: 403,
        message: 'this event is accepted only signed, from the broker',
      });
    });

    it('returns 403 to a broker event aimed at a message handler', () => {
      const context = eventContext(
        OrderEventsController,
        'paymentCompletedMessage',
        producedBy('payment'),
      );
      expect(refusal(() => guard.canActivate(context)).getStatus()).toBe(403);
    });

    it('checks the producer behind a service mesh too: the mesh never saw it', () => {
      const meshGuard = new ServiceIdentityGuard({
        ...options,
        peerIdentity: 'mesh',
      });
      const context = eventContext(
        OrderEventsController,
        'paymentCompleted',
        producedBy('gateway'),
      );
      expect(refusal(() => meshGuard.canActivate(context)).getStatus()).toBe(403);
    });
  });

  describe('over HTTP', () => {
    it('lets a request through a route without @AllowServices', () => {
      expect(guard.canActivate(httpContext('refund'))).toBe(true);
    });

    it('returns 403 on a route with @AllowServices: HTTP has no peer certificate', () => {
      expect(refusal(() => guard.canActivate(httpContext('charge'))).getResponse()).toMatchObject({
        statusCode: 403,
        message: 'this operation is only for services over mutual TLS',
      });
    });
  });
});
