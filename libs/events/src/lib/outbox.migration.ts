import type { Migration } from '@acme/persistence';

/**
 * The producer's transactional outbox (see {@link OutboxRelay}): events
 * written in the same transaction as the change they announce, delivered
 * until acknowledged. Add it to the migrations of a service that publishes
 * events. (payment's own migrations 0001 to 0003 made the same table before
 * this one existed, and a test keeps the two alike.)
 */
export const OUTBOX_MIGRATION: Migration = {
  id: '1001_outbox',
  sql: `
    CREATE TABLE outbox (
      id bigserial PRIMARY KEY,
      -- The broker subject (events.<producer>.<event>), or a message pattern of the direct path.
      topic text NOT NULL,
      payload jsonb NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      -- The W3C trace context of the call that wrote the event: its delivery continues that trace.
      trace_context jsonb,
      -- What a signed event says besides its payload: a stable id (consumers refuse it twice),
      -- the acting user and the causing request. Never a token.
      event_id uuid NOT NULL DEFAULT gen_random_uuid(),
      actor_id text,
      request_id text
    );
    CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
  `,
};
