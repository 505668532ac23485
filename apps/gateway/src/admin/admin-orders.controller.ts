import { Controller, Get } from '@nestjs/common';
import { InjectServiceClient, Roles, Scopes } from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { ORDER_PATTERNS } from '@acme/contracts';
import type { Order } from '@acme/contracts';
import { IpAllow } from '@acme/edge';

// Admins also come from known networks only: a stolen admin token is not enough from elsewhere.
@IpAllow('admin')
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(@InjectServiceClient('order') private readonly order: ServiceClient) {}

  @Get()
  @Roles('admin')
  @Scopes('admin:read')
  listAll(): Promise<Order[]> {
    return this.order.send(ORDER_PATTERNS.listAll, {}, { idempotent: true });
  }
}
