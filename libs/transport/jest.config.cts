module.exports = {
  displayName: 'transport',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/transport',
};
