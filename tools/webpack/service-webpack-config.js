const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const nodeExternals = require('webpack-node-externals');
const { join, relative } = require('node:path');

const WORKSPACE = join(__dirname, '../..');

/**
 * Packages compiled into each service's bundle instead of required from node_modules: from
 * their ES modules webpack keeps only what the service imports. Of zod, the schemas the
 * configuration uses, without its 63 locales and JSON Schema converters; of class-validator,
 * the rules the DTOs use, without the others' dependencies (libphonenumber-js's metadata).
 * About 400 modules and 5 MB of heap less in every service (docs/BENCHMARKS.md).
 */
const BUNDLED = [/^zod(\/|$)/, /^class-validator(\/|$)/];

/**
 * The webpack build of a service in `projectRoot`: Nx's Node application build into
 * dist/<projectRoot>, with every package but the {@link BUNDLED} ones required at run time
 * (`generatePackageJson` lists what the image installs: those, and the bundled ones too, which
 * Nx's project graph still counts as dependencies). Keep class-validator installed: Nest's
 * mapped types (`PartialType`, `PickType`, ...) require it by name to carry a DTO's rules over,
 * and without it they drop them silently; its rules live in one global store, which the bundled
 * copy shares. Tree shaking needs the app compiled to ES modules (`"module": "esnext"` in its
 * tsconfig.app.json): a CommonJS `require` keeps every export of what it loads.
 *
 * @example
 * // apps/inventory/webpack.config.js
 * module.exports = serviceWebpackConfig(__dirname);
 */
function serviceWebpackConfig(projectRoot, { transformers = [] } = {}) {
  return {
    output: {
      path: join(WORKSPACE, 'dist', relative(WORKSPACE, projectRoot)),
      clean: true,
      ...(process.env.NODE_ENV !== 'production' && {
        devtoolModuleFilenameTemplate: '[absolute-resource-path]',
      }),
    },
    externals: [nodeExternals({ modulesDir: join(WORKSPACE, 'node_modules'), allowlist: BUNDLED })],
    optimization: { usedExports: true },
    plugins: [
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        tsConfig: './tsconfig.app.json',
        transformers,
        optimization: false,
        outputHashing: 'none',
        generatePackageJson: true,
        sourceMap: true,
        // The externals above instead of Nx's own, which leave every package out of the bundle.
        externalDependencies: 'none',
        mergeExternals: true,
      }),
    ],
  };
}

module.exports = { serviceWebpackConfig };
