import { formatFiles, logger } from '@nx/devkit';
import type { GeneratorCallback, Tree } from '@nx/devkit';
import { addConsumers } from './lib/add-consumer';
import { addEventContract } from './lib/add-event-contract';
import { addProducer } from './lib/add-producer';
import { normalizeOptions } from './lib/normalize-options';
import type { EventGeneratorSchema } from './schema';

/**
 * `nx g @acme/workspace-plugin:event <name> --producer=<service> --consumer=<service>[,<service>]`
 */
export async function eventGenerator(
  tree: Tree,
  schema: EventGeneratorSchema,
): Promise<GeneratorCallback> {
  const options = normalizeOptions(tree, schema);
  addEventContract(tree, options);
  addProducer(tree, options);
  addConsumers(tree, options);
  if (!options.skipFormat) await formatFiles(tree);
  return () =>
    logger.info(
      [
        '',
        `Event ${options.subject} added (${options.producer} -> ${options.consumers.join(', ')}). Next:`,
        `  edit ${options.className}Dto (libs/contracts), call add${options.className}Event in ${options.producer}, fill the handler`,
        `  npm run broker:config             # the broker's users (deploy/nats, k8s/base/nats)`,
        `  npm run auth:report               # the handler in docs/AUTHORIZATION.md`,
        `  npx nx run-many -t lint,test -p ${[options.producer, ...options.consumers].join(' ')}`,
      ].join('\n'),
    );
}

export default eventGenerator;
