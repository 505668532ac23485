import { OUTBOX_MIGRATION } from '@acme/events';
import type { OpenDatabase } from '@acme/persistence';
import { openEmbeddedTestDatabase } from '@acme/persistence/testing';
import { PAYMENT_MIGRATIONS } from './migrations';

/** The columns and indexes of the outbox table, as the database describes them. */
async function outboxShape(database: OpenDatabase) {
  return {
    columns: await database.query(
      `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'outbox' ORDER BY column_name`,
    ),
    indexes: await database.query(
      `SELECT indexname, regexp_replace(indexdef, ' ON \\S+ ', ' ON ') AS definition FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename = 'outbox' ORDER BY indexname`,
    ),
  };
}

describe('PAYMENT_MIGRATIONS', () => {
  let payment: OpenDatabase;
  let shared: OpenDatabase;

  beforeAll(async () => {
    payment = await openEmbeddedTestDatabase('payments', PAYMENT_MIGRATIONS);
    shared = await openEmbeddedTestDatabase('payments', [OUTBOX_MIGRATION]);
  }, 60_000);

  afterAll(async () => {
    await payment?.close();
    await shared?.close();
  });

  it("make the outbox that @acme/events' OutboxRelay reads, as OUTBOX_MIGRATION does", async () => {
    const expected = await outboxShape(shared);
    expect(expected.columns.length).toBeGreaterThan(10);
    expect(await outboxShape(payment)).toEqual(expected);
  });
});
