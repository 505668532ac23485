import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { spiffeId } from '@acme/transport';
import type { EventContext, MessageContext } from '@acme/transport';
import { InsufficientScopeException } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { incomingCall } from '../context/incoming-call';
import { handlerRules } from '../decorators/auth-metadata';
import { TracedGuard } from '@acme/telemetry';

/**
 * Checks which service sent a message: the SPIFFE ID of the mutual-TLS peer
 * certificate must name a service listed in `@AllowServices(...)`. Message
 * handlers without the decorator refuse every caller (deny by default); HTTP
 * has no peer certificate, so the decorator on an HTTP route refuses too.
 *
 * Behind a service mesh (`peerIdentity: 'mesh'`) the socket carries no
 * certificate: the sidecar verified the caller's, and the mesh's authorization
 * policy (k8s/overlays/mesh) admits only the services that some handler here
 * allows. Handlers without the decorator still refuse everyone, and the token
 * checks that follow still run.
 */
@TracedGuard()
@Injectable()
export class ServiceIdentityGuard implements CanActivate {
  constructor(@Inject(AUTH_OPTIONS) private readonly options: AuthOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const { services: allowed, brokerEvent } = handlerRules(context);
    const call = incomingCall(context);
    switch (call.kind) {
      case 'rpc':
        checkChannel(brokerEvent, call.event !== undefined);
        if (call.event) return this.checkProducer(call.event, allowed);
        return this.checkPeer(call.message, allowed);
      case 'http':
        if (allowed) {
          throw new InsufficientScopeException(
            'this operation is only for services over mutual TLS',
            'caller_not_allowed',
          );
        }
        return true;
      case 'unsupported':
        throw new InsufficientScopeException('unsupported transport', 'caller_not_allowed');
    }
  }

  /** The producer named by the event's verified signature must be allowed; a mesh changes nothing here. */
  private checkProducer(event: EventContext, allowed: readonly string[] | undefined): boolean {
    const producer = event.getEvent().producer;
    if (!allowed?.some((service) => spiffeId(this.options.trustDomain, service) === producer)) {
      throw new InsufficientScopeException(
        `producing service ${producer} is not allowed`,
        'caller_not_allowed',
      );
    }
    return true;
  }

  private checkPeer(
    message: MessageContext | undefined,
    allowed: readonly string[] | undefined,
  ): boolean {
    if (!allowed?.length) {
      throw new InsufficientScopeException(
        'no service may send this message',
        'caller_not_allowed',
      );
    }
    if (this.options.peerIdentity === 'mesh') return true;
    const peer = message?.getPeerSpiffeId();
    const permitted = allowed.some(
      (service) => spiffeId(this.options.trustDomain, service) === peer,
    );
    if (!permitted) {
      throw new InsufficientScopeException(
        `calling service ${peer ?? 'unknown'} is not allowed`,
        'caller_not_allowed',
      );
    }
    return true;
  }
}

/**
 * Events are accepted from the broker only, signed (an `@EventPattern` handler under
 * `events.`), and messages only over the transport: the same subject sent the other way
 * round is refused.
 */
function checkChannel(isBrokerEvent: boolean, fromBroker: boolean): void {
  if (isBrokerEvent !== fromBroker) {
    throw new InsufficientScopeException(
      isBrokerEvent
        ? 'this event is accepted only signed, from the broker'
        : 'a broker event cannot call this handler',
      'caller_not_allowed',
    );
  }
}
