import type { Migration } from '@acme/persistence';

/**
 * The consumer's record of the events it has handled, in its own schema: an
 * event id seen again (a redelivery, or a replay) is acknowledged and not
 * handled twice. Add it to the migrations of a service that consumes events.
 */
export const PROCESSED_EVENTS_MIGRATION: Migration = {
  id: '1000_processed_events',
  sql: `
    CREATE TABLE processed_events (
      event_id text PRIMARY KEY,
      subject text NOT NULL,
      producer text NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};
