import { ORDER_LIMITS } from '@acme/contracts';
import type { Order, OrderPage } from '@acme/contracts';
import { randomUUID } from 'node:crypto';
import { validateOrderEnv } from '../config';
import { CATALOG, CURRENCY } from './catalog';
import { encodeCursor } from './order-cursor';

describe('a page of orders', () => {
  it('fits in half the default frame limit at its worst, whatever was stored', () => {
    const maxPrice = Math.max(...[...CATALOG.values()].map((product) => product.unitPrice));
    const worst: Order = {
      id: randomUUID(),
      // A control character is the longest to write in JSON: \u0001.
      ownerId: '\u0001'.repeat(ORDER_LIMITS.maxOwnerIdLength),
      status: 'PENDING',
      items: Array.from({ length: ORDER_LIMITS.maxItems }, () => ({
        sku: 'x'.repeat(ORDER_LIMITS.maxSkuLength),
        quantity: ORDER_LIMITS.maxQuantity,
        unitPrice: maxPrice,
      })),
      total: ORDER_LIMITS.maxItems * ORDER_LIMITS.maxQuantity * maxPrice,
      currency: CURRENCY,
      paymentId: randomUUID(),
      createdAt: new Date().toISOString(),
    };
    const page: OrderPage = {
      items: Array.from({ length: ORDER_LIMITS.maxPageSize }, () => worst),
      nextCursor: encodeCursor({ createdAt: '2026-12-03T01:02:03.456789Z', id: randomUUID() }),
    };
    // The reply frame as Nest's TCP transport writes it.
    const frame = JSON.stringify({ response: page, isDisposed: true, id: randomUUID() });

    expect(frame.length).toBeLessThan(validateOrderEnv({}).MAX_FRAME_BYTES / 2);
  });
});
