/** Message patterns served by the order service. */
export const ORDER_PATTERNS = {
  create: 'order.create',
  list: 'order.list',
  listAll: 'order.list-all',
  get: 'order.get',
  delete: 'order.delete',
  pay: 'order.pay',
  paymentCompleted: 'order.payment-completed',
} as const;

/** Message patterns served by the payment service. */
export const PAYMENT_PATTERNS = {
  charge: 'payment.charge',
} as const;

/** Served by every microservice: answers when the process and its transport are up. */
export const HEALTH_PATTERN = 'health.ping';
