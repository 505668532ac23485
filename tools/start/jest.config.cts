module.exports = {
  displayName: 'start',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/tools/start',
};
