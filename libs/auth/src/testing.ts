export { TestIssuer } from './lib/testing/test-issuer';
export type { TestTokenOptions } from './lib/testing/test-issuer';
