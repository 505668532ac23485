const { nxPreset } = require('@nx/jest/preset');

// One transform for every project: SWC compiles TypeScript with Nest's decorator
// metadata, and also the ESM-only packages (oidc-provider, jose, the web e2e's
// @sparticuz/chromium) that ts-jest cannot load, and PGlite, whose dynamic
// imports jest's CommonJS runtime refuses.
module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.(ts|js|mjs|cjs)$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(oidc-provider|jose|oauth4webapi|quick-lru|@koa|koa|nanoid|eta|@electric-sql/pglite|@sparticuz/chromium)/)',
  ],
};
