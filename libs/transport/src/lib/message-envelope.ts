/** What travels beside a payload: the caller's credentials and the request id. Never part of a DTO. */
export interface MessageMeta {
  /** The bearer token of the principal on whose behalf the call is made, as `Bearer <jwt>`. */
  authorization?: string;
  requestId?: string;
}

/** The wire shape of every message on the secure transport. */
export interface MessageEnvelope<T = unknown> {
  meta: MessageMeta;
  data: T;
}

const MAX_META_VALUE = 16 * 1024;

function isOptionalString(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && value.length <= MAX_META_VALUE);
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
    isOptionalString(meta.requestId)
  );
}
