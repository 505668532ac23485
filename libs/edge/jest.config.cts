module.exports = {
  displayName: 'edge',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/edge',
};
