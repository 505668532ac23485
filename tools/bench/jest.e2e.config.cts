module.exports = {
  displayName: 'bench-smoke',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 120_000,
  coverageDirectory: '../../coverage/tools/bench-smoke',
};
