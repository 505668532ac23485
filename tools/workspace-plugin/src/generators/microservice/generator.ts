import { formatFiles, logger, runTasksInSerial } from '@nx/devkit';
import type { GeneratorCallback, Tree } from '@nx/devkit';
import { addApplication } from './lib/add-application';
import { addCallerAudiences } from './lib/add-caller-audiences';
import { addComposeService } from './lib/add-compose-service';
import { addContracts } from './lib/add-contracts';
import { addKubernetesManifests } from './lib/add-kubernetes-manifests';
import { addModuleBoundary } from './lib/add-module-boundary';
import { addServiceFiles } from './lib/add-service-files';
import { normalizeOptions } from './lib/normalize-options';
import type { MicroserviceGeneratorSchema } from './schema';

/**
 * `nx g @acme/workspace-plugin:microservice <name> [--http] [--callers=gateway,order]`
 */
export async function microserviceGenerator(
  tree: Tree,
  schema: MicroserviceGeneratorSchema,
): Promise<GeneratorCallback> {
  const options = normalizeOptions(tree, schema);
  const installTask = await addApplication(tree, options);
  addServiceFiles(tree, options);
  addContracts(tree, options);
  addComposeService(tree, options);
  addKubernetesManifests(tree, options);
  addCallerAudiences(tree, options);
  if (!options.skipFormat) await formatFiles(tree);
  // After formatting: this one line follows the hand-kept style of eslint.config.mjs.
  addModuleBoundary(tree, options);
  return runTasksInSerial(installTask, () => printNextSteps(options.name, options.e2eProjectName));
}

function printNextSteps(name: string, e2e: string): void {
  logger.info(
    [
      '',
      `Service ${name} created. Next:`,
      `  npm run dev:setup                 # its dev certificate`,
      `  npm run auth:report               # its handlers in docs/AUTHORIZATION.md`,
      `  npm run config:docs               # its settings in docs/CONFIGURATION.md`,
      `  npx nx run-many -t lint,test,build -p ${name} && npx nx e2e ${e2e}`,
    ].join('\n'),
  );
}

export default microserviceGenerator;
