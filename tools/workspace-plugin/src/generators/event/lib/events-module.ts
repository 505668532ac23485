import { generateFiles, names } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { join } from 'node:path';
import { SourceFile } from './source-edits';

/**
 * The service's module of event wiring (`src/events/<service>-events.module.ts`),
 * made and imported into its AppModule the first time; later events add to it.
 */
export function eventsModuleOf(tree: Tree, service: string): SourceFile {
  const { className } = names(service);
  const path = `apps/${service}/src/events/${service}-events.module.ts`;
  if (!tree.exists(path)) {
    generateFiles(
      tree,
      join(__dirname, '..', 'files', 'events-module'),
      `apps/${service}/src/events`,
      {
        service,
        serviceFileName: service,
        serviceClassName: className,
        tmpl: '',
      },
    );
    new SourceFile(tree, `apps/${service}/src/app.module.ts`)
      .addNamedImport(`${className}EventsModule`, `./events/${service}-events.module`)
      .addToDecoratorArray('Module', 'imports', `${className}EventsModule`)
      .write();
  }
  return new SourceFile(tree, path);
}

/** Adds a migration of @acme/events to the service's migrations, unless it has it. */
export function addEventsMigration(tree: Tree, service: string, migration: string): void {
  const migrations = new SourceFile(tree, `apps/${service}/src/migrations.ts`);
  if (migrations.contains(migration)) return;
  migrations
    .addNamedImport(migration, '@acme/events')
    .addToArrayConstant(/_MIGRATIONS$/, migration)
    .write();
}
