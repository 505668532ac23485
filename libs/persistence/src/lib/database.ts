import { Logger } from '@nestjs/common';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { mkdirSync } from 'node:fs';

/** A Drizzle database, the same type whichever engine is behind it. */
export type Database = PgDatabase<PgQueryResultHKT>;

export interface DatabaseOptions {
  /** `postgres://...`; without it an embedded PostgreSQL (PGlite) keeps its files in `dataDir`. */
  url?: string;
  dataDir: string;
  /** The PostgreSQL schema this service owns; its tables live there and nowhere else. */
  schema: string;
  /** Connections in the pool (PostgreSQL only). */
  poolSize?: number;
}

/** Plain SQL, for migrations and checks. */
export interface SqlRunner {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters. */
  exec(sql: string): Promise<void>;
}

/** An open database: Drizzle for the application, plain SQL for migrations. */
export interface OpenDatabase extends SqlRunner {
  db: Database;
  engine: 'postgres' | 'pglite';
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens PostgreSQL when a URL is given, or the embedded engine otherwise. Both
 * speak the same SQL, so one set of migrations and one Drizzle schema serve both.
 *
 * @example
 * const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: '.dev/data/order', schema: 'orders' });
 */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  if (!SCHEMA_NAME.test(options.schema)) throw new Error(`invalid schema name: ${options.schema}`);
  // Under a lock: replicas starting together would otherwise race on CREATE SCHEMA. Created
  // only when missing: a service role that owns its schema but may not create any (compose's
  // init script makes such roles) is refused even CREATE SCHEMA IF NOT EXISTS.
  const setSchema = `BEGIN; SELECT pg_advisory_xact_lock(hashtext('${options.schema}'));
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = '${options.schema}') THEN
        CREATE SCHEMA "${options.schema}";
      END IF;
    END $$;
    COMMIT; SET search_path TO "${options.schema}";`;
  // Each engine is loaded only when used: the embedded one alone is megabytes of heap that a
  // service on a PostgreSQL server would carry for nothing.
  if (options.url) {
    const { Pool } = require('pg') as typeof import('pg');
    const { drizzle: drizzlePostgres } =
      require('drizzle-orm/node-postgres') as typeof import('drizzle-orm/node-postgres');
    const pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: `-c search_path="${options.schema}"`,
    });
    const bootstrap = await pool.connect();
    try {
      await bootstrap.query(setSchema);
    } finally {
      bootstrap.release();
    }
    return {
      db: drizzlePostgres(pool) as unknown as Database,
      engine: 'postgres',
      async transaction<T>(work: (tx: SqlRunner) => Promise<T>) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await work({
            query: async <R>(sql: string, params: unknown[] = []) =>
              (await client.query(sql, params)).rows as R[],
            exec: async (sql: string) => void (await client.query(sql)),
          });
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      async query<T>(sql: string, params: unknown[] = []) {
        return (await pool.query(sql, params)).rows as T[];
      },
      exec: async (sql) => void (await pool.query(sql)),
      close: () => pool.end(),
    };
  }
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } =
    require('drizzle-orm/pglite') as typeof import('drizzle-orm/pglite');
  mkdirSync(options.dataDir, { recursive: true });
  Logger.log(
    `embedded PostgreSQL (PGlite) in ${options.dataDir}; set DATABASE_URL for a server`,
    'Database',
  );
  const client = await PGlite.create(options.dataDir);
  await client.exec(setSchema);
  return {
    db: drizzlePglite(client) as unknown as Database,
    engine: 'pglite',
    transaction: <T>(work: (tx: SqlRunner) => Promise<T>) =>
      client.transaction((tx) =>
        work({
          query: async <R>(sql: string, params: unknown[] = []) =>
            (await tx.query<R>(sql, params)).rows,
          exec: async (sql: string) => void (await tx.exec(sql)),
        }),
      ),
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query<T>(sql, params)).rows;
    },
    exec: async (sql) => void (await client.exec(sql)),
    close: () => client.close(),
  };
}
