import type { Tree } from '@nx/devkit';
import type { NormalizedOptions } from './normalize-options';
import { renderTemplates } from './template-files';

const CONTRACTS = 'libs/contracts/src';

/**
 * What callers share with the service, in `@acme/contracts`: its item type and,
 * for a TCP service, its message patterns.
 */
export function addContracts(tree: Tree, options: NormalizedOptions): void {
  const index = `${CONTRACTS}/index.ts`;
  const current = tree.read(index, 'utf-8');
  if (current === null)
    throw new Error(
      `${index} not found: the service shares its contracts through @acme/contracts.`,
    );
  renderTemplates(tree, 'contracts', `${CONTRACTS}/lib`, options);
  const exports = [`export type { ${options.className}Item } from './lib/${options.name}.dto';`];
  if (!options.http) {
    renderTemplates(tree, 'contracts-tcp', `${CONTRACTS}/lib`, options);
    exports.unshift(
      `export { ${options.constantName}_PATTERNS } from './lib/${options.name}.constants';`,
    );
  }
  tree.write(index, `${current.trimEnd()}\n${exports.join('\n')}\n`);
}
