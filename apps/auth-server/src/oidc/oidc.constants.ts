/** DI token of the oidc-provider `Provider` instance. */
export const OIDC_PROVIDER = Symbol('OIDC_PROVIDER');
