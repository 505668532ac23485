import type { Migration, PersistenceOptions } from '@acme/persistence';
import { z } from 'zod';
import { boolEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';

/** Keys of a service that owns a database. */
export function databaseEnv(service: string, schema: string) {
  return {
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/ })
      .optional()
      .describe(
        'PostgreSQL URL; without it an embedded PostgreSQL (PGlite) keeps the data in DATA_DIR.',
      ),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default(schema)
      .describe('PostgreSQL schema this service owns; no other service reads it.'),
    DATA_DIR: z
      .string()
      .min(1)
      .default(`.dev/data/${service}`)
      .describe('Files of the embedded database.'),
    DATABASE_MIGRATE_ON_START: boolEnv(true).describe(
      'Apply pending migrations at start-up; in production set false and run `npm run db:migrate`.',
    ),
  };
}

type DatabaseEnv = z.infer<z.ZodObject<ReturnType<typeof databaseEnv>>>;

/** Options of `PersistenceModule` from a service's configuration. */
export function persistenceFrom(
  config: ConfigReader<DatabaseEnv>,
  migrations: readonly Migration[],
): PersistenceOptions {
  const env = readConfig(config, [
    'DATABASE_URL',
    'DATABASE_SCHEMA',
    'DATA_DIR',
    'DATABASE_MIGRATE_ON_START',
  ]);
  return {
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    dataDir: env.DATA_DIR,
    migrateOnStart: env.DATABASE_MIGRATE_ON_START,
    migrations,
  };
}
