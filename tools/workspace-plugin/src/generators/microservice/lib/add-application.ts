import {
  offsetFromRoot,
  readProjectConfiguration,
  updateJson,
  updateProjectConfiguration,
} from '@nx/devkit';
import type { GeneratorCallback, Tree } from '@nx/devkit';
import { applicationGenerator } from '@nx/nest';
import type { NormalizedOptions } from './normalize-options';

/**
 * The Nest application and its e2e project, made by the official `@nx/nest`
 * generator (project.json, webpack, tsconfigs, ESLint, Jest), then aligned with
 * the workspace: its placeholder code goes, its projects get our tags and targets.
 */
export async function addApplication(
  tree: Tree,
  options: NormalizedOptions,
): Promise<GeneratorCallback> {
  const hadLaunchConfig = tree.exists('.vscode/launch.json');
  const task = await applicationGenerator(tree, {
    directory: options.projectRoot,
    name: options.name,
    tags: `type:app,scope:${options.name}`,
    linter: 'eslint',
    unitTestRunner: 'jest',
    e2eTestRunner: 'jest',
    strict: true,
    // Inferred build/serve targets; without it a legacy webpack config is written.
    addPlugin: true,
    // Every dependency is already in the root package.json; never install from a generator.
    skipPackageJson: true,
    skipFormat: true,
  });

  // The placeholder "Hello API" app, its HTTP e2e test and its debugger config: replaced by our files.
  for (const path of [
    `${options.projectRoot}/src/app`,
    `${options.projectRoot}/src/assets`,
    `${options.e2eProjectRoot}/src`,
  ]) {
    tree.delete(path);
  }
  if (!hadLaunchConfig) tree.delete('.vscode/launch.json');
  // Every service is built alike (tools/webpack): the packages it bundles, where it writes.
  const buildConfig = `${offsetFromRoot(options.projectRoot)}tools/webpack/service-webpack-config`;
  tree.write(
    `${options.projectRoot}/webpack.config.js`,
    `const { serviceWebpackConfig } = require('${buildConfig}');\n\n` +
      'module.exports = serviceWebpackConfig(__dirname);\n',
  );

  // The compiler settings (strict, decorators, target) are tsconfig.base.json's, for every app:
  // the copies @nx/nest writes here (an older target among them) would drift from it. The build
  // compiles to ES modules, for webpack to tree-shake what it bundles; the tests to CommonJS.
  const outDir = '../../dist/out-tsc';
  const compilerOptions: Record<string, Record<string, unknown>> = {
    'tsconfig.json': { module: 'commonjs' },
    'tsconfig.app.json': { outDir, module: 'esnext', types: ['node'] },
    'tsconfig.spec.json': { outDir, module: 'commonjs', types: ['jest', 'node'] },
  };
  for (const [file, own] of Object.entries(compilerOptions)) {
    updateJson(tree, `${options.projectRoot}/${file}`, (tsconfig: Record<string, unknown>) => ({
      ...tsconfig,
      compilerOptions: own,
    }));
  }

  const app = readProjectConfiguration(tree, options.name);
  const serve = app.targets?.['serve'];
  // Every app would open the inspector on port 9229: `npm start` serves them all at once.
  if (serve) serve.options = { ...serve.options, inspect: false };
  // The executor builds (and watches) the app itself: a dependency on build would build it twice.
  if (serve) delete serve.dependsOn;
  // A service without tests must fail its test run, not pass it (the test target itself is inferred).
  if (app.targets?.['test']?.options?.passWithNoTests) delete app.targets['test'];
  updateProjectConfiguration(tree, options.name, app);

  const e2e = readProjectConfiguration(tree, options.e2eProjectName);
  e2e.tags = ['type:e2e', `scope:${options.name}`];
  // The spec starts the built service itself, with a throwaway PKI and issuer: no `nx serve`.
  e2e.targets = {
    e2e: {
      executor: '@nx/jest:jest',
      outputs: ['{workspaceRoot}/coverage/{projectRoot}'],
      dependsOn: [{ projects: [options.name], target: 'build' }],
      options: { jestConfig: `${options.e2eProjectRoot}/jest.config.cts`, runInBand: true },
    },
  };
  updateProjectConfiguration(tree, options.e2eProjectName, e2e);
  return task;
}
