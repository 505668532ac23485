import { Controller, Get, Query } from '@nestjs/common';
import { InjectServiceClient, Roles, Scopes } from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { ListOrdersDto, ORDER_PATTERNS } from '@acme/contracts';
import type { OrderPage } from '@acme/contracts';
import { IpAllow } from '@acme/edge';

// Admins also come from known networks only: a stolen admin token is not enough from elsewhere.
@IpAllow('admin')
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(@InjectServiceClient('order') private readonly order: ServiceClient) {}

  /** Every order, the newest first, a page at a time (`limit` at most 50): follow `nextCursor`. */
  @Get()
  @Roles('admin')
  @Scopes('admin:read')
  listAll(@Query() page: ListOrdersDto): Promise<OrderPage> {
    return this.order.send(ORDER_PATTERNS.listAll, page, { idempotent: true });
  }
}
