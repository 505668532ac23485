module.exports = {
  displayName: 'telemetry',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/telemetry',
};
