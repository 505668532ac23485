import { logger } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import type { NormalizedOptions } from './normalize-options';

const ESLINT_CONFIG = 'eslint.config.mjs';
const SCOPE_CONSTRAINT = /^([ \t]*)\{ sourceTag: 'scope:[^']+',.*\},?[ \t]*$/gm;

/**
 * Gives the new `scope:<name>` tag its rule in `@nx/enforce-module-boundaries`
 * (only its own scope and shared libraries): a tag without a constraint would
 * be decorative. Written after formatting, in the style of the lines around it.
 */
export function addModuleBoundary(tree: Tree, options: NormalizedOptions): void {
  const config = tree.read(ESLINT_CONFIG, 'utf-8');
  const tag = `scope:${options.name}`;
  const rule = `{ sourceTag: '${tag}', onlyDependOnLibsWithTags: ['${tag}', 'scope:shared'] },`;
  const last = config ? [...config.matchAll(SCOPE_CONSTRAINT)].pop() : undefined;
  if (!config || !last || last.index === undefined) {
    logger.warn(
      `${ESLINT_CONFIG}: no scope constraints found; add ${rule} to the depConstraints by hand.`,
    );
    return;
  }
  if (config.includes(`sourceTag: '${tag}'`)) return;
  const end = last.index + last[0].length;
  tree.write(ESLINT_CONFIG, `${config.slice(0, end)}\n${last[1]}${rule}${config.slice(end)}`);
}
