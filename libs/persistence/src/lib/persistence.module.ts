import { Inject, Module } from '@nestjs/common';
import type { DynamicModule, InjectionToken, OnApplicationShutdown } from '@nestjs/common';
import { openDatabase } from './database';
import type { DatabaseOptions, OpenDatabase } from './database';
import { migrate } from './migrations';
import type { Migration } from './migrations';

/** The open database of this service (Drizzle in `.db`). */
export const DATABASE = Symbol('DATABASE');

export interface PersistenceOptions extends DatabaseOptions {
  migrations: readonly Migration[];
  /** Apply pending migrations at start-up (dev); otherwise run `npm run db:migrate`. */
  migrateOnStart: boolean;
}

export interface PersistenceModuleAsyncOptions {
  inject?: InjectionToken[];
  useFactory: (...args: never[]) => PersistenceOptions;
}

/**
 * Opens this service's database (PostgreSQL or embedded), applies migrations
 * when configured to, and closes it on shutdown.
 *
 * @example
 * PersistenceModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => ({ ... }) })
 * constructor(@Inject(DATABASE) private readonly database: OpenDatabase) {}
 */
@Module({})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: OpenDatabase) {}

  static forRootAsync(options: PersistenceModuleAsyncOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        {
          provide: DATABASE,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => {
            const { migrations, migrateOnStart, ...connection } = options.useFactory(...args);
            const database = await openDatabase(connection);
            if (migrateOnStart) await migrate(database, migrations);
            return database;
          },
        },
      ],
      exports: [DATABASE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
