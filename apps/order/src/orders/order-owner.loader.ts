import { Injectable } from '@nestjs/common';
import type { ResourceOwnerLoader } from '@acme/auth';
import { OrdersService } from './orders.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who owns the order named by a message's `id`, for `isOwner(...)` policies. */
@Injectable()
export class OrderOwnerLoader implements ResourceOwnerLoader {
  constructor(private readonly orders: OrdersService) {}

  async ownerOf(input: unknown): Promise<string | undefined> {
    const id = (input as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || !UUID.test(id)) return undefined;
    return (await this.orders.find(id))?.ownerId;
  }
}
