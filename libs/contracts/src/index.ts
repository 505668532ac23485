export { HEALTH_PATTERN, ORDER_PATTERNS, PAYMENT_PATTERNS } from './lib/patterns.constants';
export { CreateOrderDto, OrderIdDto, OrderItemDto } from './lib/order.dto';
export type { Order, OrderLine, OrderStatus } from './lib/order.dto';
export { ChargePaymentDto, PaymentCompletedDto } from './lib/payment.dto';
export type { Payment } from './lib/payment.dto';
