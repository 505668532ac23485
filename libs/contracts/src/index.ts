export { HEALTH_PATTERN, ORDER_PATTERNS, PAYMENT_PATTERNS } from './lib/patterns.constants';
export {
  BillingDetailsDto,
  CreateOrderDto,
  OrderIdDto,
  OrderItemDto,
  PayOrderBodyDto,
  PayOrderDto,
} from './lib/order.dto';
export type { Order, OrderLine, OrderStatus } from './lib/order.dto';
export { ChargePaymentDto, PaymentCompletedDto } from './lib/payment.dto';
export type { Payment } from './lib/payment.dto';
