import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const WORKSPACE = join(__dirname, '../../../..');

/**
 * Apps tagged `type:app` that the root Dockerfile and the Kubernetes manifests
 * leave out, each with the reason. Any other app, a generated service included,
 * must be deployed.
 */
export const NOT_DEPLOYED: Record<string, string> = {
  web: 'the browser client: static files and a small server, built by docker/web.Dockerfile and run by compose only',
};

/** Every app tagged `type:app` but those above: each must be deployable by compose and Kubernetes. */
export function deployableApps(): string[] {
  const apps = join(WORKSPACE, 'apps');
  return readdirSync(apps)
    .filter((name) => existsSync(join(apps, name, 'project.json')))
    .filter((name) => {
      const project = JSON.parse(readFileSync(join(apps, name, 'project.json'), 'utf8')) as {
        tags?: string[];
      };
      return project.tags?.includes('type:app') && !(name in NOT_DEPLOYED);
    })
    .sort();
}
