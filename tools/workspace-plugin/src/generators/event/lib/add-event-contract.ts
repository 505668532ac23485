import { generateFiles, names } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { join } from 'node:path';
import { EVENT_ROUTES_FILE } from './normalize-options';
import type { NormalizedEventOptions } from './normalize-options';
import { SourceFile } from './source-edits';

const CONTRACTS = 'libs/contracts/src';

/**
 * Its route in EVENT_ROUTES (from which the broker's permissions and the
 * consumers' durable subscriptions are derived) and its validated payload.
 */
export function addEventContract(tree: Tree, options: NormalizedEventOptions): void {
  generateFiles(tree, join(__dirname, '..', 'files', 'contract'), `${CONTRACTS}/lib`, {
    ...templateValues(options),
    tmpl: '',
  });
  const consumers = options.consumers.map((consumer) => `'${consumer}'`).join(', ');
  new SourceFile(tree, EVENT_ROUTES_FILE)
    .addToObjectConstant(
      'EVENT_ROUTES',
      options.routeKey,
      `{ subject: '${options.subject}', producer: '${options.producer}', consumers: [${consumers}] }`,
    )
    .write();
  const index = `${CONTRACTS}/index.ts`;
  const current = tree.read(index, 'utf-8');
  if (current === null) throw new Error(`${index} not found.`);
  tree.write(
    index,
    `${current.trimEnd()}\nexport { ${options.className}Dto } from './lib/${options.fileName}.dto';\n`,
  );
}

/** What every template of this generator reads. */
export function templateValues(options: NormalizedEventOptions) {
  return { ...options, producerProperty: names(options.producer).propertyName };
}
