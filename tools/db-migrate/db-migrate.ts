/**
 * Applies a service's pending migrations to its database, with the service's
 * own configuration (DATABASE_URL or DATABASE_URL_FILE, DATABASE_SCHEMA, DATA_DIR, ...). Production
 * runs this before rolling out (and sets DATABASE_MIGRATE_ON_START=false).
 *
 *   npm run db:migrate -- order
 */
import 'reflect-metadata';
import { databaseUrlFrom } from '@acme/bootstrap';
import type { Migration } from '@acme/persistence';
import { migrate, openDatabase } from '@acme/persistence';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

interface DatabaseConfig {
  DATABASE_URL?: string;
  DATABASE_URL_FILE?: string;
  DATABASE_SCHEMA: string;
  DATA_DIR: string;
}

async function main(): Promise<void> {
  const service = process.argv[2];
  const root = join(process.cwd(), 'apps', service ?? '', 'src');
  if (!service || !existsSync(join(root, 'migrations.ts'))) {
    throw new Error('usage: npm run db:migrate -- <service>  (a service with src/migrations.ts)');
  }
  // Each service exports one `validate<Service>Env` from config.ts and one `*_MIGRATIONS` list.
  const config = (await import(join(root, 'config'))) as Record<string, unknown>;
  const validate = Object.entries(config).find(([name]) => /^validate\w*Env$/.test(name))?.[1] as
    | ((env: NodeJS.ProcessEnv) => DatabaseConfig)
    | undefined;
  const exported = (await import(join(root, 'migrations'))) as Record<string, unknown>;
  const migrations = Object.entries(exported).find(([name]) =>
    name.endsWith('_MIGRATIONS'),
  )?.[1] as readonly Migration[] | undefined;
  if (!validate || !migrations) {
    throw new Error(`${service} exports no validate*Env or *_MIGRATIONS`);
  }

  const env = validate(process.env);
  const database = await openDatabase({
    url: databaseUrlFrom(env),
    dataDir: env.DATA_DIR,
    schema: env.DATABASE_SCHEMA,
  });
  try {
    const applied = await migrate(database, migrations);
    console.log(
      applied.length ? `${service}: applied ${applied.join(', ')}` : `${service}: up to date`,
    );
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
