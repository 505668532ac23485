export { HEALTH_PATTERN, ORDER_PATTERNS, PAYMENT_PATTERNS } from './lib/patterns.constants';
export { EVENT_ROUTES } from './lib/events.constants';
export type { EventRoute } from './lib/events.constants';
export {
  BillingDetailsDto,
  CreateOrderDto,
  ListOrdersDto,
  OrderIdDto,
  OrderItemDto,
  PayOrderBodyDto,
  PayOrderDto,
} from './lib/order.dto';
export type { Order, OrderLine, OrderPage, OrderStatus } from './lib/order.dto';
export { ORDER_LIMITS } from './lib/order.constants';
export { ChargePaymentDto, PaymentCompletedDto } from './lib/payment.dto';
export type { Payment } from './lib/payment.dto';
