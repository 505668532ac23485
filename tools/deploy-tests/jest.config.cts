const modules = '<rootDir>/../../node_modules';

module.exports = {
  displayName: 'deploy-tests',
  preset: '../../jest.preset.js',
  // kubernetes-models and some of its dependencies are ESM only, exported under
  // the "import" condition that Jest's CommonJS resolver does not use: map its
  // entry points to files, and let SWC compile dependencies like our own code.
  moduleNameMapper: {
    '^kubernetes-models/(.+/)?([A-Z][A-Za-z0-9]*)$': `${modules}/kubernetes-models/$1$2.js`,
    '^kubernetes-models/(.+)$': `${modules}/kubernetes-models/$1/index.js`,
    '^@kubernetes-models/(base|validate)$': `${modules}/@kubernetes-models/$1/dist/index.js`,
    '^@kubernetes-models/validate/runtime/(.+)$': `${modules}/@kubernetes-models/validate/dist/runtime/$1.js`,
    '^@kubernetes-models/([^/]+)/(.+/)?([A-Z][A-Za-z0-9]*)$': `${modules}/@kubernetes-models/$1/$2$3.js`,
  },
  transformIgnorePatterns: [],
  coverageDirectory: '../../coverage/tools/deploy-tests',
};
