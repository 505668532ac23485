module.exports = {
  displayName: 'web',
  preset: '../../jest.preset.js',
  // Browser modules import each other as `./name.js`, as the browser needs.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  coverageDirectory: '../../coverage/apps/web',
};
