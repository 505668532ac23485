module.exports = {
  displayName: 'workspace-plugin-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
  testTimeout: 480_000,
  coverageDirectory: '../../coverage/tools/workspace-plugin-e2e',
};
