import { generateFiles } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { join } from 'node:path';
import { API_AUDIENCE } from './normalize-options';
import type { NormalizedOptions } from './normalize-options';

/** Renders `files/<folder>` into `target`: `__name__` path tokens, `__tmpl__` suffixes, EJS inside. */
export function renderTemplates(
  tree: Tree,
  folder: string,
  target: string,
  options: NormalizedOptions,
): void {
  generateFiles(tree, join(__dirname, '..', 'files', folder), target, {
    ...options,
    fileName: options.name,
    snakeName: options.constantName.toLowerCase(),
    portName: options.http ? 'http' : 'rpc',
    // serviceEnv already requires the API's audience: config.ts overrides only another one.
    ownAudience: options.audience !== API_AUDIENCE,
    tmpl: '',
  });
}
