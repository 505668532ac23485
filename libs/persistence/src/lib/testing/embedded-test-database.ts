import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../database';
import type { OpenDatabase } from '../database';
import { migrate } from '../migrations';
import type { Migration } from '../migrations';

/**
 * A migrated embedded database (PGlite) in a temporary folder, for unit specs
 * of services; `close` also removes its files.
 *
 * @example
 * const database = await openEmbeddedTestDatabase('orders', ORDER_MIGRATIONS);
 * afterAll(() => database.close());
 */
export async function openEmbeddedTestDatabase(
  schema: string,
  migrations: readonly Migration[],
): Promise<OpenDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), `${schema}-`));
  const database = await openDatabase({ dataDir, schema });
  await migrate(database, migrations);
  return {
    ...database,
    async close() {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
