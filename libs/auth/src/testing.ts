export { TestIssuer } from './lib/testing/test-issuer';
export type { TestTokenOptions } from './lib/testing/test-issuer';
export { ProviderIssuer } from './lib/testing/provider-issuer';
export type { ExternalProvider, ProviderUser } from './lib/testing/provider-issuer';
export {
  authorize,
  clientCredentials,
  discover,
  loginWithPkce,
  OidcLoginError,
} from './lib/testing/oidc-login';
export type { TokenResponse } from './lib/testing/oidc-login';
export {
  createDpopKey,
  dpopKeyFromJwk,
  dpopProof,
  dpopThumbprint,
} from './lib/testing/dpop-client';
export type { DpopKey, DpopProofInput } from './lib/testing/dpop-client';
