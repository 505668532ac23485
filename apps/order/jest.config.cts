module.exports = {
  displayName: 'order',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/order',
};
