export { AppProcess, WORKSPACE } from './lib/testing/app-process';
export { TestPki } from './lib/testing/test-pki';
export type { TestPkiOptions } from './lib/testing/test-pki';
// The port helpers every e2e suite uses; they live in the lowest lib, for @acme/edge's Redis server too.
export { freePort, isListening } from '@acme/transport/testing';
