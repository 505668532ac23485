import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessageMeta } from './message-envelope';

/** The metadata of the call being handled: the caller's credentials, request id and trace. */
const storage = new AsyncLocalStorage<MessageMeta>();

/** The current call's metadata, or undefined outside of a handler. */
export function currentCallMeta(): MessageMeta | undefined {
  return storage.getStore();
}

/**
 * Runs `work` as the handling of a call with `meta`: everything it starts, awaited or
 * not, sees that metadata (`currentCallMeta()`). The transports run each message in
 * one; HTTP requests get theirs from `@acme/auth`'s `runRoutesInCallContext`.
 */
export function runInCallContext<T>(meta: MessageMeta, work: () => T): T {
  return storage.run(meta, work);
}

/**
 * Runs `work` as if outside of any handler: a `ServiceClient` call in it
 * carries nothing of the current caller, neither token nor request id.
 *
 * @example
 * // A public ping needs no token, and must not spend an exchange of the caller's.
 * await withoutCallContext(() => client.send(HEALTH_PATTERN, {}));
 */
export function withoutCallContext<T>(work: () => T): T {
  return storage.exit(work);
}
