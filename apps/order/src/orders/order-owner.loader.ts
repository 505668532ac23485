import { Injectable } from '@nestjs/common';
import type { ResourceOwnerLoader } from '@acme/auth';
import type { Order } from '@acme/contracts';
import { OrdersService } from './orders.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The order named by a message's `id` and its owner, for `isOwner(...)`
 * policies; the handler receives the order through `@AuthorizedResource()`.
 */
@Injectable()
export class OrderOwnerLoader implements ResourceOwnerLoader<Order> {
  constructor(private readonly orders: OrdersService) {}

  load(input: unknown): Promise<Order | undefined> | undefined {
    const id = (input as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || !UUID.test(id)) return undefined;
    return this.orders.find(id);
  }

  ownerOf(order: Order): string {
    return order.ownerId;
  }
}
