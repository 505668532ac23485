module.exports = {
  displayName: 'bootstrap',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/bootstrap',
};
