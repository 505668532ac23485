import type { Tree } from '@nx/devkit';
import type { NormalizedOptions } from './normalize-options';
import { renderTemplates } from './template-files';

const CONTRACTS = 'libs/contracts/src';

/**
 * What callers share with the service, in `@acme/contracts`: its item and
 * page types, the DTO of a page request and, for a TCP service, its message patterns.
 */
export function addContracts(tree: Tree, options: NormalizedOptions): void {
  const index = `${CONTRACTS}/index.ts`;
  const current = tree.read(index, 'utf-8');
  if (current === null) {
    throw new Error(
      `${index} not found: the service shares its contracts through @acme/contracts.`,
    );
  }
  renderTemplates(tree, 'contracts', `${CONTRACTS}/lib`, options);
  const dto = `./lib/${options.name}.dto`;
  const exports = [
    `export { ${options.constantName}_MAX_PAGE_SIZE, List${options.className}Dto } from '${dto}';`,
    `export type { ${options.className}Item, ${options.className}Page } from '${dto}';`,
  ];
  if (!options.http) {
    renderTemplates(tree, 'contracts-tcp', `${CONTRACTS}/lib`, options);
    exports.unshift(
      `export { ${options.constantName}_PATTERNS } from './lib/${options.name}.constants';`,
    );
  }
  tree.write(index, `${current.trimEnd()}\n${exports.join('\n')}\n`);
}
