import { generateFiles } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { join } from 'node:path';
import { templateValues } from './add-event-contract';
import { addEventsMigration, eventsModuleOf } from './events-module';
import type { NormalizedEventOptions } from './normalize-options';

/**
 * The producer publishes as payment does: the event is written to its outbox
 * in the transaction of the change (a typed `add<Event>Event` function), and
 * @acme/events' OutboxRelay publishes it, signed, once committed. The outbox
 * table and the relay are added unless the service has them.
 */
export function addProducer(tree: Tree, options: NormalizedEventOptions): void {
  const service = options.producer;
  // Before the new files, whose comments name the relay.
  const hasRelay = sourcesOf(tree, `apps/${service}/src`).some((text) =>
    /\bOutboxRelay\b/.test(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')),
  );
  generateFiles(tree, join(__dirname, '..', 'files', 'producer'), `apps/${service}/src/events`, {
    ...templateValues(options),
    tmpl: '',
  });
  if (!hasOutboxTable(tree, service)) addEventsMigration(tree, service, 'OUTBOX_MIGRATION');
  if (!hasRelay) {
    eventsModuleOf(tree, service)
      .addNamedImport('OutboxRelay', '@acme/events')
      .addToDecoratorArray('Module', 'providers', 'OutboxRelay')
      .write();
  }
}

/** payment made its outbox in its own migrations, before OUTBOX_MIGRATION existed. */
function hasOutboxTable(tree: Tree, service: string): boolean {
  const migrations = tree.read(`apps/${service}/src/migrations.ts`, 'utf-8') ?? '';
  return /OUTBOX_MIGRATION|CREATE TABLE outbox\b/.test(migrations);
}

function sourcesOf(tree: Tree, dir: string): string[] {
  return tree.children(dir).flatMap((child) => {
    const path = `${dir}/${child}`;
    if (tree.isFile(path)) return path.endsWith('.ts') ? [tree.read(path, 'utf-8') ?? ''] : [];
    return sourcesOf(tree, path);
  });
}
