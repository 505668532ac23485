import { Injectable } from '@nestjs/common';
import type { ResourceOwnerLoader } from '@acme/auth';
import { OrdersService } from './orders.service';

/** Who owns the order named by a message's `id`, for `isOwner(...)` policies. */
@Injectable()
export class OrderOwnerLoader implements ResourceOwnerLoader {
  constructor(private readonly orders: OrdersService) {}

  ownerOf(input: unknown): string | undefined {
    const id = (input as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' ? this.orders.find(id)?.ownerId : undefined;
  }
}
