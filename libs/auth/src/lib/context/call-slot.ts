/**
 * A value kept for one call, on an object that lives no longer than the call, under a symbol
 * private to the slot: the HTTP request or the message's transport context
 * (`incomingCall(context).key`), the call's metadata (`currentCallMeta()`), or Nest's host of
 * the call itself.
 *
 * A property, not a `WeakMap` entry: V8 keeps a WeakMap's entries in an ephemeron table that
 * garbage collection has to walk, and a set per call, with keys that die young, cost about
 * 0.3 us against a few nanoseconds for the property (docs/BENCHMARKS.md).
 *
 * @example
 * const principals = new CallSlot<Principal>('principal');
 * principals.set(call.key, principal);
 * principals.get(call.key); // principal
 */
export class CallSlot<T> {
  private readonly key: symbol;

  constructor(description: string) {
    this.key = Symbol(description);
  }

  get(call: object): T | undefined {
    return (call as Record<symbol, T | undefined>)[this.key];
  }

  set(call: object, value: T): void {
    (call as Record<symbol, T>)[this.key] = value;
  }
}
