export { openEmbeddedTestDatabase } from './lib/testing/embedded-test-database';
