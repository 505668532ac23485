import type { TraceCarrier } from '@acme/telemetry';
import { bigserial, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Mirrors migration 0001_payments. */
export const payments = pgTable('payments', {
  id: uuid('id').primaryKey(),
  orderId: uuid('order_id').notNull().unique(),
  payerId: text('payer_id').notNull(),
  amount: integer('amount').notNull(),
  currency: text('currency').notNull(),
  status: text('status').$type<'SUCCEEDED'>().notNull(),
  billingDetails: text('billing_details'),
  cardFingerprint: text('card_fingerprint'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const outbox = pgTable('outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  topic: text('topic').notNull(),
  payload: jsonb('payload').notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  lastError: text('last_error'),
  traceContext: jsonb('trace_context').$type<TraceCarrier>(),
  eventId: uuid('event_id').notNull().defaultRandom(),
  actorId: text('actor_id'),
  requestId: text('request_id'),
});
