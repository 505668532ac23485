module.exports = {
  displayName: 'auth-server',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/auth-server',
  // The specs drive the real server over HTTP, with scrypt at its production cost: allow for a busy CI.
  testTimeout: 30_000,
};
