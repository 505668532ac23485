import { generateFiles } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { join } from 'node:path';
import { templateValues } from './add-event-contract';
import { addEventsMigration, eventsModuleOf } from './events-module';
import type { NormalizedEventOptions } from './normalize-options';

/**
 * Each consumer gets an `@EventPattern` handler that only the producer may
 * trigger (`@AllowServices`, `@Policy(isService(...))`, checked against the
 * event's signature); @acme/bootstrap starts a durable consumer for it, and
 * `processed_events` keeps it from handling an event twice.
 */
export function addConsumers(tree: Tree, options: NormalizedEventOptions): void {
  for (const service of options.consumers) {
    generateFiles(tree, join(__dirname, '..', 'files', 'consumer'), `apps/${service}/src/events`, {
      ...templateValues(options),
      tmpl: '',
    });
    addEventsMigration(tree, service, 'PROCESSED_EVENTS_MIGRATION');
    eventsModuleOf(tree, service)
      .addNamedImport(`${options.className}Controller`, `./${options.fileName}.controller`)
      .addToDecoratorArray('Module', 'controllers', `${options.className}Controller`)
      .write();
  }
}
