import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  AllowServices,
  anyOf,
  AuthorizedResource,
  CurrentUser,
  fromNetwork,
  hasRole,
  InjectServiceClient,
  isOwner,
  isService,
  Policy,
  Roles,
  Scopes,
} from '@acme/auth';
import type { Principal, ServiceClient } from '@acme/auth';
import {
  CreateOrderDto,
  EVENT_ROUTES,
  ListOrdersDto,
  OrderIdDto,
  ORDER_PATTERNS,
  PayOrderDto,
  PaymentCompletedDto,
  PAYMENT_PATTERNS,
} from '@acme/contracts';
import type { ChargePaymentDto, Order, OrderPage, Payment } from '@acme/contracts';
import { OrderOwnerLoader } from './order-owner.loader';
import { OrdersService } from './orders.service';

@Controller()
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    @InjectServiceClient('payment') private readonly payment: ServiceClient,
  ) {}

  @MessagePattern(ORDER_PATTERNS.create)
  @AllowServices('gateway')
  @Roles('user')
  @Scopes('orders:write')
  create(@Payload() dto: CreateOrderDto, @CurrentUser() user: Principal): Promise<Order> {
    return this.orders.create(user.subject, dto.items);
  }

  @MessagePattern(ORDER_PATTERNS.list)
  @AllowServices('gateway')
  @Roles('user')
  @Scopes('orders:read')
  list(@Payload() page: ListOrdersDto, @CurrentUser() user: Principal): Promise<OrderPage> {
    return this.orders.listByOwner(user.subject, page);
  }

  @MessagePattern(ORDER_PATTERNS.listAll)
  @AllowServices('gateway')
  @Roles('admin')
  @Scopes('admin:read')
  // The gateway's IpAllow('admin') on this route, held again where the data lives.
  @Policy(fromNetwork('admin'))
  listAll(@Payload() page: ListOrdersDto): Promise<OrderPage> {
    return this.orders.listAll(page);
  }

  /**
   * An admin reads or deletes anyone's order only from the gateway's `admin` IP
   * list, the one /api/admin/** is served to: the gateway alone sees the client's
   * address and says which lists hold it; this service alone knows the owner.
   */
  @MessagePattern(ORDER_PATTERNS.get)
  @AllowServices('gateway')
  @Scopes('orders:read')
  @Policy(anyOf(hasRole('admin', { from: 'admin' }), isOwner(OrderOwnerLoader)))
  get(@Payload() { id }: OrderIdDto, @AuthorizedResource() owned?: Order): Order | Promise<Order> {
    return owned ?? this.orders.get(id);
  }

  @MessagePattern(ORDER_PATTERNS.delete)
  @AllowServices('gateway')
  @Scopes('orders:write')
  @Policy(anyOf(hasRole('admin', { from: 'admin' }), isOwner(OrderOwnerLoader)))
  async delete(@Payload() { id }: OrderIdDto): Promise<{ deleted: string }> {
    await this.orders.delete(id);
    return { deleted: id };
  }

  /**
   * Charges the order through payment, on behalf of the user whose token came
   * with the message. Idempotent: paying a paid order answers the paid order,
   * and payment charges an order at most once, however many calls race.
   */
  @MessagePattern(ORDER_PATTERNS.pay)
  @AllowServices('gateway')
  @Scopes('orders:write')
  @Policy(isOwner(OrderOwnerLoader))
  async pay(
    @Payload() { id, billing, cardToken }: PayOrderDto,
    @AuthorizedResource() owned?: Order,
  ): Promise<Order> {
    const order = owned ?? (await this.orders.get(id));
    if (order.status === 'PAID') return order;
    const charge: ChargePaymentDto = {
      orderId: order.id,
      payerId: order.ownerId,
      amount: order.total,
      currency: order.currency,
      billing,
      cardToken,
    };
    const payment = await this.payment.send<Payment>(PAYMENT_PATTERNS.charge, charge, {
      idempotent: true,
    });
    return this.orders.markPaid(order.id, payment.id);
  }

  /** Payment's confirmation, sent with its own service identity rather than a user's token. */
  @MessagePattern(ORDER_PATTERNS.paymentCompleted)
  @AllowServices('payment')
  @Scopes('orders:settle')
  @Policy(isService('payment'))
  paymentCompleted(@Payload() { orderId, paymentId }: PaymentCompletedDto): Promise<Order> {
    return this.orders.markPaid(orderId, paymentId);
  }

  /**
   * The same confirmation as an event from the broker: allowed only signed
   * by payment's certificate (verified before dispatch), at most once per
   * event id. A conflict (paid by another payment) is final: the event goes
   * to order's dead letters.
   */
  @EventPattern(EVENT_ROUTES.paymentCompleted.subject)
  @AllowServices('payment')
  @Policy(isService('payment'))
  async onPaymentCompleted(@Payload() { orderId, paymentId }: PaymentCompletedDto): Promise<void> {
    await this.orders.markPaid(orderId, paymentId);
  }
}
