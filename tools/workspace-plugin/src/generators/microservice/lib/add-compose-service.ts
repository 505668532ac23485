import type { Tree } from '@nx/devkit';
import type { NormalizedOptions } from './normalize-options';
import { renderTemplates } from './template-files';
import { appendToList, updateYaml } from './yaml-lists';

const ROOT_COMPOSE = 'docker-compose.yml';
const FRAGMENTS = 'deploy/compose';

/** The service's own compose file, and one line in the root file's `include:`. */
export function addComposeService(tree: Tree, options: NormalizedOptions): void {
  renderTemplates(tree, 'compose', FRAGMENTS, options);
  const found = updateYaml(tree, ROOT_COMPOSE, (document) =>
    appendToList(document, 'include', `${FRAGMENTS}/${options.name}.yml`, ROOT_COMPOSE),
  );
  if (!found) {
    throw new Error(
      `${ROOT_COMPOSE} not found: the service joins the system through its include list.`,
    );
  }
}
