import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/.dev', '**/tmp'],
  },
  {
    files: ['**/*.ts', '**/*.js'],
    rules: {
      // Who may import whom. Apps never import apps; services share only
      // contracts and the platform libraries; contracts depend on nothing.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // The shared configs each app's own extends: ESLint's, and the build's (tools/webpack).
          allow: [
            '^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$',
            '^.*/tools/webpack/service-webpack-config$',
          ],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'],
            },
            {
              sourceTag: 'type:tool',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'],
            },
            {
              sourceTag: 'type:platform',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'],
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
            // The platform libs are layered: telemetry at the bottom, then transport
            // below auth below edge below bootstrap; persistence stands beside
            // transport, events above both (below bootstrap). A lib never imports one above it.
            { sourceTag: 'layer:telemetry', onlyDependOnLibsWithTags: [] },
            {
              sourceTag: 'layer:transport',
              onlyDependOnLibsWithTags: ['layer:telemetry', 'type:contracts'],
            },
            {
              sourceTag: 'layer:persistence',
              onlyDependOnLibsWithTags: ['layer:telemetry', 'type:contracts'],
            },
            {
              sourceTag: 'layer:auth',
              onlyDependOnLibsWithTags: ['layer:transport', 'layer:telemetry', 'type:contracts'],
            },
            {
              sourceTag: 'layer:edge',
              onlyDependOnLibsWithTags: [
                'layer:auth',
                'layer:transport',
                'layer:telemetry',
                'type:contracts',
              ],
            },
            {
              sourceTag: 'layer:events',
              onlyDependOnLibsWithTags: [
                'layer:transport',
                'layer:persistence',
                'layer:telemetry',
                'type:contracts',
              ],
            },
            {
              sourceTag: 'layer:bootstrap',
              onlyDependOnLibsWithTags: [
                'layer:events',
                'layer:edge',
                'layer:auth',
                'layer:transport',
                'layer:persistence',
                'layer:telemetry',
                'type:contracts',
              ],
            },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:gateway',
              onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'],
            },
            { sourceTag: 'scope:order', onlyDependOnLibsWithTags: ['scope:order', 'scope:shared'] },
            {
              sourceTag: 'scope:payment',
              onlyDependOnLibsWithTags: ['scope:payment', 'scope:shared'],
            },
            { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['scope:auth', 'scope:shared'] },
            { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:system', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/require-await': 'error',
      // `const { cert, ...rest } = x` drops a field on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      '@typescript-eslint/await-thenable': 'error',
      // A body on its own line keeps its braces; a one-line body may drop them.
      curly: ['error', 'multi-line', 'consistent'],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Test helpers (throwaway PKI, test issuers, process runners) never reach a
    // production bundle: only specs, e2e suites, tools and other testing entries use them.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: [
      '**/*.spec.ts',
      '**/*.e2e-spec.ts',
      '**/testing.ts',
      '**/testing/**',
      'apps/*-e2e/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@acme/*/testing'],
              message:
                'Testing entries are for specs, e2e suites and tools, never production code.',
            },
          ],
        },
      ],
    },
  },
];
