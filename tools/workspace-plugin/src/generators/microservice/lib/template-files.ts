import { generateFiles } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { join } from 'node:path';
import { defaultAudience } from './normalize-options';
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
    // serviceEnv already requires the service's own audience: config.ts passes only another one.
    ownAudience: options.audience !== defaultAudience(options.name),
    tmpl: '',
  });
}
