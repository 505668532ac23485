import type { OrderLine, OrderStatus } from '@acme/contracts';
import { integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Mirrors migration 0001_orders; the table lives in this service's own schema. */
export const orders = pgTable('orders', {
  id: uuid('id').primaryKey(),
  ownerId: text('owner_id').notNull(),
  status: text('status').$type<OrderStatus>().notNull(),
  items: jsonb('items').$type<OrderLine[]>().notNull(),
  total: integer('total').notNull(),
  currency: text('currency').notNull(),
  paymentId: uuid('payment_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
