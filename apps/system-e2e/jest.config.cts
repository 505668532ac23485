module.exports = {
  displayName: 'system-e2e',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 90_000,
  coverageDirectory: '../../coverage/apps/system-e2e',
};
