module.exports = {
  displayName: 'workspace-plugin',
  preset: '../../jest.preset.js',
  // The generator runs the real @nx/nest generators (about 25 s on an idle machine, far more under load).
  testTimeout: 180_000,
  coverageDirectory: '../../coverage/tools/workspace-plugin',
};
