import type { ExecutionContext } from '@nestjs/common';
import { spiffeId } from '@acme/transport';
import type { AuthOptions } from '../auth.options';
import { CallSlot } from './call-slot';
import { incomingCall } from './incoming-call';

const httpNetworks = new CallSlot<readonly string[]>('client networks');

/**
 * Records the named IP lists that hold the client's address of an HTTP
 * request. The edge calls it before any auth guard runs (`@acme/edge`'s IP
 * guard); `ServiceClient` forwards the names with every message of that request.
 *
 * @example
 * setClientNetworks(request, ['admin']);
 */
export function setClientNetworks(request: object, names: readonly string[]): void {
  httpNetworks.set(request, names);
}

/** What {@link setClientNetworks} recorded for this HTTP request: none if nothing did. */
export function recordedClientNetworks(request: object): readonly string[] {
  return httpNetworks.get(request) ?? [];
}

/**
 * The named IP lists the client of this request or message comes from. Over
 * HTTP, what the edge recorded. Over RPC, what the message's metadata says,
 * only when the peer is an edge service (`options.edgeServices`): proven by its
 * certificate, or under a mesh by a handler that admits edge services only
 * (the mesh's policies admit only the callers a handler names). From anyone
 * else, none: another service could claim anything.
 */
export function getClientNetworks(
  context: ExecutionContext,
  options: Pick<AuthOptions, 'edgeServices' | 'peerIdentity' | 'trustDomain'>,
  allowedCallers: readonly string[] = [],
): readonly string[] {
  const call = incomingCall(context);
  switch (call.kind) {
    case 'http':
      return recordedClientNetworks(call.request);
    case 'rpc': {
      const { message } = call;
      if (!message) return [];
      const fromEdge =
        options.peerIdentity === 'mesh'
          ? allowedCallers.length > 0 &&
            allowedCallers.every((caller) => options.edgeServices.includes(caller))
          : options.edgeServices.some(
              (service) => spiffeId(options.trustDomain, service) === message.getPeerSpiffeId(),
            );
      return fromEdge ? (message.getMeta().clientNetworks ?? []) : [];
    }
    case 'unsupported':
      return [];
  }
}
