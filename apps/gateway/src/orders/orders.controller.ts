import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { InjectServiceClient, Roles, Scopes } from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { CreateOrderDto, ListOrdersDto, ORDER_PATTERNS, PayOrderBodyDto } from '@acme/contracts';
import type { Order, OrderIdDto, OrderPage, PayOrderDto } from '@acme/contracts';
import { RateLimit } from '@acme/edge';

/**
 * The gateway checks who may call each route; the order service checks again,
 * and alone decides ownership, since only it has the data.
 */
@Controller('orders')
export class OrdersController {
  constructor(@InjectServiceClient('order') private readonly order: ServiceClient) {}

  @Post()
  @Roles('user')
  @Scopes('orders:write')
  create(@Body() dto: CreateOrderDto): Promise<Order> {
    return this.order.send(ORDER_PATTERNS.create, dto);
  }

  /** The caller's orders, the newest first, a page at a time (`limit` at most 50): follow `nextCursor`. */
  @Get()
  @Roles('user')
  @Scopes('orders:read')
  list(@Query() page: ListOrdersDto): Promise<OrderPage> {
    return this.order.send(ORDER_PATTERNS.list, page, { idempotent: true });
  }

  /** Owner or admin: enforced by the order service. */
  @Get(':id')
  @Roles('user', 'admin')
  @Scopes('orders:read')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<Order> {
    return this.order.send(ORDER_PATTERNS.get, { id } satisfies OrderIdDto, { idempotent: true });
  }

  /** Owner or admin: enforced by the order service. */
  @Delete(':id')
  @HttpCode(204)
  @Roles('user', 'admin')
  @Scopes('orders:write')
  async delete(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.order.send(ORDER_PATTERNS.delete, { id } satisfies OrderIdDto);
  }

  /**
   * Owner only: enforced by the order service, and by payment against the payer.
   * A payment crosses three services and a card processor: it costs the caller
   * three requests' worth of their rate limit.
   */
  @Post(':id/pay')
  @HttpCode(200)
  @Roles('user')
  @Scopes('orders:write')
  @RateLimit({ cost: 3 })
  pay(@Param('id', ParseUUIDPipe) id: string, @Body() body: PayOrderBodyDto): Promise<Order> {
    // Idempotent: payment charges an order at most once, however often it is asked.
    return this.order.send(ORDER_PATTERNS.pay, { ...body, id } satisfies PayOrderDto, {
      idempotent: true,
    });
  }
}
