import type { Migration } from '@acme/persistence';

/** The payment service's schema, one versioned step at a time. Never edit an applied migration: add one. */
export const PAYMENT_MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_payments',
    sql: `
      -- One payment per order, enforced here: retries and races cannot charge twice.
      CREATE TABLE payments (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE,
        payer_id text NOT NULL,
        amount integer NOT NULL CHECK (amount > 0),
        currency text NOT NULL,
        status text NOT NULL CHECK (status IN ('SUCCEEDED')),
        -- AES-256-GCM, tagged with the data key id: v1.<kid>.<iv>.<tag>.<ciphertext>
        billing_details text,
        card_fingerprint text,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      -- Events written in the same transaction as the payment, delivered until acknowledged.
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        payload jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
    `,
  },
  {
    id: '0002_outbox_trace_context',
    sql: `
      -- The W3C trace context of the call that wrote the event: its delivery continues that trace.
      ALTER TABLE outbox ADD COLUMN trace_context jsonb;
    `,
  },
  {
    id: '0003_outbox_event_identity',
    sql: `
      -- What a signed event on the broker says besides its payload: a stable id (consumers
      -- refuse it twice), the acting user and the causing request. Never a token.
      ALTER TABLE outbox ADD COLUMN event_id uuid NOT NULL DEFAULT gen_random_uuid();
      ALTER TABLE outbox ADD COLUMN actor_id text;
      ALTER TABLE outbox ADD COLUMN request_id text;
    `,
  },
];
