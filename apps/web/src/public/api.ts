import { ApiError, explainStatus, explainUnreachable } from './problems.js';

/** An order as the gateway returns it (amounts in cents). */
export interface Order {
  id: string;
  ownerId: string;
  status: 'PENDING' | 'PAID';
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  createdAt: string;
}

/** One page of orders, the newest first; `nextCursor` asks for the next one. */
export interface OrderPage {
  items: Order[];
  nextCursor: string | null;
}

/** Calls the gateway with the user's access token; a failure is an `ApiError` with a message to show. */
export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: () => Promise<string>,
  ) {}

  myOrders = (cursor?: string): Promise<OrderPage> =>
    this.call('GET', `/api/orders${pageQuery(cursor)}`);
  allOrders = (cursor?: string): Promise<OrderPage> =>
    this.call('GET', `/api/admin/orders${pageQuery(cursor)}`);
  createOrder = (sku: string, quantity: number): Promise<Order> =>
    this.call('POST', '/api/orders', { items: [{ sku, quantity }] });
  // No payment provider is wired in: the order is paid without card details.
  payOrder = (id: string): Promise<Order> =>
    this.call('POST', `/api/orders/${encodeURIComponent(id)}/pay`, {});
  deleteOrder = (id: string): Promise<void> =>
    this.call('DELETE', `/api/orders/${encodeURIComponent(id)}`);

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.accessToken();
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      throw new ApiError(undefined, explainUnreachable('the API', this.baseUrl));
    }
    const parsed = await jsonOf(response);
    if (!response.ok) {
      // Retry-After is readable only if the gateway lists it in Access-Control-Expose-Headers.
      throw new ApiError(
        response.status,
        explainStatus(response.status, parsed, response.headers.get('retry-after')),
      );
    }
    return parsed as T;
  }
}

function pageQuery(cursor: string | undefined): string {
  return cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
}

/** The JSON body, or undefined when there is none (204) or it is not JSON (a proxy's error page). */
async function jsonOf(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}
