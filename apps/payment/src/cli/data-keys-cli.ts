import { databaseUrlFrom } from '@acme/bootstrap';
import { migrate, openDatabase } from '@acme/persistence';
import type { DataKeys, OpenDatabase } from '@acme/persistence';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { PaymentConfig } from '../config';
import { PAYMENT_MIGRATIONS } from '../migrations';

/** What the data-key commands share: the key file, the database, one way to fail. */
export const readDataKeys = (path: string): DataKeys =>
  JSON.parse(readFileSync(path, 'utf8')) as DataKeys;

/** Replaces the key file in one step: a crash leaves the old set or the new one, never half. */
export function writeDataKeys(path: string, dataKeys: DataKeys): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(dataKeys, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export async function withPaymentDatabase<T>(
  env: PaymentConfig,
  work: (database: OpenDatabase) => Promise<T>,
): Promise<T> {
  const database = await openDatabase({
    url: databaseUrlFrom(env),
    dataDir: env.DATA_DIR,
    schema: env.DATABASE_SCHEMA,
  });
  try {
    await migrate(database, PAYMENT_MIGRATIONS);
    return await work(database);
  } finally {
    await database.close();
  }
}

/** The value after `--<name>` on the command line. */
export function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

export function run(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
