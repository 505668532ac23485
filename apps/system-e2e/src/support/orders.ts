import type { Order } from '@acme/contracts';
import { request } from './http';
import type { HttpResult } from './http';

/**
 * An order of one `sku` created through the gateway as `token`'s user, then paid with billing
 * details and a card token: the request that crosses gateway, order and payment. Both answers,
 * for the spec to check.
 */
export async function createAndPayOrder(
  gatewayUrl: string,
  token: string,
  sku = 'book-1',
): Promise<{ created: HttpResult<Order>; paid: HttpResult<Order> }> {
  const created = await request<Order>(gatewayUrl, 'POST', '/api/orders', {
    token,
    body: { items: [{ sku, quantity: 1 }] },
  });
  const paid = await request<Order>(gatewayUrl, 'POST', `/api/orders/${created.body.id}/pay`, {
    token,
    body: {
      billing: { name: 'A. L.', address: '1 Rabbit Hole' },
      cardToken: 'tok_visa4242abcd',
    },
  });
  return { created, paid };
}
