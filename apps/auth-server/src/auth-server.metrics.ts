import { Counter } from 'prom-client';

/** How a sign-in ended: `failure` is a wrong user name or password, alike. */
export type LoginResult = 'success' | 'failure' | 'locked' | 'busy';

const logins = new Counter({
  name: 'acme_auth_server_logins_total',
  help: 'Sign-ins by result: success, failure (invalid credentials), locked (too many failures), busy (password checks saturated).',
  labelNames: ['result'] as const,
});

const tokenReuses = new Counter({
  name: 'acme_auth_server_token_reuse_total',
  help: 'Refresh tokens or authorization codes presented again after use: the grant is revoked.',
});

const certificateMismatches = new Counter({
  name: 'acme_auth_server_certificate_mismatch_total',
  help: "Token requests over mutual TLS refused because the certificate names another service than the client's, by client id.",
  labelNames: ['client'] as const,
});

/** Counted where the matching `authn_login_*` audit event is written. */
export function countLogin(result: LoginResult): void {
  logins.inc({ result });
}

/** Counted where the `authn_token_reuse` audit event is written. */
export function countTokenReuse(): void {
  tokenReuses.inc();
}

/** Counted where the `authz_fail` audit event of a certificate of another service is written. */
export function countCertificateMismatch(clientId: string): void {
  certificateMismatches.inc({ client: clientId });
}
