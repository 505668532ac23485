// The headless OpenID Connect client of the `token` command, which these tests also cover against the real server.
export { authorize, clientCredentials, loginWithPkce } from '@acme/auth/testing';
