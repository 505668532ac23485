import type { Migration, PersistenceOptions } from '@acme/persistence';
import { z } from 'zod';
import { boolEnv, inlineOrFile, optionalFileEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });

/** Keys of a service that owns a database. */
export function databaseEnv(service: string, schema: string) {
  return {
    DATABASE_URL: postgresUrl
      .optional()
      .describe(
        'PostgreSQL URL; without it (or DATABASE_URL_FILE) an embedded PostgreSQL (PGlite) keeps the data in DATA_DIR.',
      ),
    DATABASE_URL_FILE: optionalFileEnv().describe(
      'File holding the PostgreSQL URL instead of DATABASE_URL, as a mounted secret: the URL carries a password. Not both.',
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

/** The PostgreSQL URL, from DATABASE_URL or the file DATABASE_URL_FILE; none: the embedded engine. */
export function databaseUrlFrom(
  env: Pick<DatabaseEnv, 'DATABASE_URL' | 'DATABASE_URL_FILE'>,
): string | undefined {
  return inlineOrFile('DATABASE_URL', env.DATABASE_URL, env.DATABASE_URL_FILE, postgresUrl);
}

/** Options of `PersistenceModule` from a service's configuration. */
export function persistenceFrom(
  config: ConfigReader<DatabaseEnv>,
  migrations: readonly Migration[],
): PersistenceOptions {
  const env = readConfig(config, [
    'DATABASE_URL',
    'DATABASE_URL_FILE',
    'DATABASE_SCHEMA',
    'DATA_DIR',
    'DATABASE_MIGRATE_ON_START',
  ]);
  return {
    url: databaseUrlFrom(env),
    schema: env.DATABASE_SCHEMA,
    dataDir: env.DATA_DIR,
    migrateOnStart: env.DATABASE_MIGRATE_ON_START,
    migrations,
  };
}
