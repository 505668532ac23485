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

/** Sends one request to the API as the signed-in user (`Session.fetch`: token and DPoP proof). */
export type AuthorizedFetch = (
  method: string,
  url: URL,
  headers: Headers,
  body?: string,
) => Promise<Response>;

/** Calls the gateway as the signed-in user; a failure is an `ApiError` with a message to show. */
export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly send: AuthorizedFetch,
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
    const headers = new Headers();
    if (body !== undefined) headers.set('content-type', 'application/json');
    let response: Response;
    try {
      response = await this.send(
        method,
        new URL(`${this.baseUrl}${path}`),
        headers,
        body === undefined ? undefined : JSON.stringify(body),
      );
    } catch (error) {
      // Signed out, or the refresh failed: the session's own words.
      if (error instanceof ApiError) throw error;
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
