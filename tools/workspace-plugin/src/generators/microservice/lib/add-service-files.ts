import type { Tree } from '@nx/devkit';
import type { NormalizedOptions } from './normalize-options';
import { renderTemplates } from './template-files';

/** The service's own code and tests: bootstrap, config, auth, health, the example feature. */
export function addServiceFiles(tree: Tree, options: NormalizedOptions): void {
  const kind = options.http ? 'http' : 'tcp';
  renderTemplates(tree, 'app', options.projectRoot, options);
  renderTemplates(tree, `app-${kind}`, options.projectRoot, options);
  renderTemplates(tree, 'e2e', options.e2eProjectRoot, options);
  renderTemplates(tree, `e2e-${kind}`, options.e2eProjectRoot, options);
}
