// Not named jest.config.cts, so that the @nx/jest plugin infers no `test` target: this suite runs
// only as `e2e`, after the builds it depends on.
module.exports = {
  displayName: 'web-e2e',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 30_000,
};
