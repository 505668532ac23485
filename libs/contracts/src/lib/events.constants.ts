/**
 * Events on the broker: each subject, the one service that may publish it and
 * the services that consume it. The broker's permissions (`npm run
 * broker:config`) and the consumers' durable subscriptions are derived from
 * this table; a subject's first two tokens name its producer.
 */
export const EVENT_ROUTES = {
  paymentCompleted: {
    subject: 'events.payment.completed',
    producer: 'payment',
    consumers: ['order'],
  },
} as const;

export type EventRoute = (typeof EVENT_ROUTES)[keyof typeof EVENT_ROUTES];
