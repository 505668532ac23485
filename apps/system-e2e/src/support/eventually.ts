/**
 * Asks `probe` until `accept` takes its answer, or `timeoutMs` has passed, and returns the
 * last answer: the caller asserts on it, so a timeout fails with what the system last said.
 *
 * @example
 * const order = await eventually(() => getOrder(id), (o) => o.status === 'PAID');
 * expect(order).toMatchObject({ status: 'PAID' });
 */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await probe();
  }
  return value;
}
