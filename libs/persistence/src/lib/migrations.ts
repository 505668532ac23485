import { Logger } from '@nestjs/common';
import type { OpenDatabase } from './database';

/** One versioned change of a service's schema. Ids sort in the order they apply; never edit an applied one. */
export interface Migration {
  id: string;
  sql: string;
}

/**
 * Applies the migrations not applied yet, each in its own transaction, under
 * an advisory lock so that replicas starting together apply each one once.
 *
 * @example
 * await migrate(database, ORDER_MIGRATIONS);
 */
export async function migrate(
  database: OpenDatabase,
  migrations: readonly Migration[],
): Promise<string[]> {
  await database.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext(current_schema()))');
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
  });
  const applied: string[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
    const done = await database.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext(current_schema()))');
      const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE id = $1', [migration.id]);
      if (rows.length > 0) return true;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      return false;
    });
    if (done) continue;
    applied.push(migration.id);
    Logger.log(`applied migration ${migration.id}`, 'Database');
  }
  return applied;
}
