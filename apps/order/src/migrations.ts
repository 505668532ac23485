import { PROCESSED_EVENTS_MIGRATION } from '@acme/events';
import type { Migration } from '@acme/persistence';

/** The order service's schema, one versioned step at a time. Never edit an applied migration: add one. */
export const ORDER_MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_orders',
    sql: `
      CREATE TABLE orders (
        id uuid PRIMARY KEY,
        owner_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'PAID')),
        items jsonb NOT NULL,
        total integer NOT NULL CHECK (total > 0),
        currency text NOT NULL,
        payment_id uuid UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'PAID') = (payment_id IS NOT NULL))
      );
      CREATE INDEX orders_owner_id ON orders (owner_id, created_at);
    `,
  },
  {
    // Keyset pagination, the newest first: each list reads an index in its own order, ids breaking ties.
    id: '0002_orders_pages',
    sql: `
      CREATE INDEX orders_owner_page ON orders (owner_id, created_at, id);
      DROP INDEX orders_owner_id;
      CREATE INDEX orders_page ON orders (created_at, id);
    `,
  },
  // The broker consumer's record of handled event ids (from @acme/events, numbered from 1000).
  PROCESSED_EVENTS_MIGRATION,
];
