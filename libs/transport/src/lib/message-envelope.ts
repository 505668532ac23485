import { isTraceCarrier, MAX_TRACE_CARRIER_LENGTH } from '@acme/telemetry';
/** What travels beside a payload: the caller's credentials and the request id. Never part of a DTO. */
export interface MessageMeta {
  /** The bearer token of the principal on whose behalf the call is made, as `Bearer <jwt>`. */
  authorization?: string;
  requestId?: string;
  /**
   * The named IP lists (`IP_ALLOW_LISTS` of the gateway) that hold the client's
   * address, as the edge service that received the request saw it. Only the
   * edge sees the client; a receiver counts this only from an edge peer.
   */
  clientNetworks?: string[];
  /** W3C trace context of the sending span, so that one trace spans every hop. */
  traceparent?: string;
  tracestate?: string;
}

/** The wire shape of every message on the secure transport. */
export interface MessageEnvelope<T = unknown> {
  meta: MessageMeta;
  data: T;
}

const MAX_META_VALUE = 16 * 1024;

/**
 * The most a frame can hold besides its payload: the envelope's metadata at
 * its limits and the transport's own fields (pattern, id). A frame limit
 * must leave this much room above the largest payload.
 */
export const MAX_ENVELOPE_OVERHEAD_BYTES = 2 * MAX_META_VALUE + MAX_TRACE_CARRIER_LENGTH + 4 * 1024;

function isOptionalString(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && value.length <= MAX_META_VALUE);
}

const MAX_CLIENT_NETWORKS = 16;

function isOptionalNetworkList(value: unknown): boolean {
  return (
    value === undefined ||
    (Array.isArray(value) &&
      value.length <= MAX_CLIENT_NETWORKS &&
      value.every((name) => typeof name === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(name)))
  );
}

export function isMessageEnvelope(value: unknown): value is MessageEnvelope {
  if (typeof value !== 'object' || value === null || !('meta' in value) || !('data' in value)) {
    return false;
  }
  const meta = (value as MessageEnvelope).meta;
  return (
    typeof meta === 'object' &&
    meta !== null &&
    isOptionalString(meta.authorization) &&
    isOptionalString(meta.requestId) &&
    isOptionalNetworkList(meta.clientNetworks) &&
    isTraceCarrier(meta)
  );
}
