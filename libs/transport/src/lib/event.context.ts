import { BaseRpcContext } from '@nestjs/microservices';
import { spiffeId } from './spiffe';
import type { VerifiedEvent } from './signed-event';

/**
 * The RPC context of an event taken from the broker: its signature was
 * verified, so the producer it names is who sent it. Guards read the producer
 * here as they read the mutual-TLS peer of a {@link MessageContext}.
 *
 * @example
 * const producer = context.switchToRpc().getContext<EventContext>().getEvent().producer;
 */
export class EventContext extends BaseRpcContext<[VerifiedEvent]> {
  constructor(event: VerifiedEvent) {
    super([event]);
  }

  getEvent(): VerifiedEvent {
    return this.args[0];
  }

  /** The producing service's name within `trustDomain`, or undefined if it is of another. */
  getProducerService(trustDomain: string): string | undefined {
    const prefix = spiffeId(trustDomain, '');
    const producer = this.getEvent().producer;
    return producer.startsWith(prefix) ? producer.slice(prefix.length) : undefined;
  }
}
