import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { certificateThumbprint } from '@acme/transport';
import { createCertificateAuthority, issueServiceCertificate } from '@acme/transport/testing';
import type { CertificateAuthority } from '@acme/transport/testing';

export interface TestPkiOptions {
  /** SPIFFE trust domain of the certificates (spiffe://<domain>/<service>). */
  trustDomain: string;
  /** One certificate and key each, `<service>.crt` and `<service>.key`. */
  services: readonly string[];
  /** OAuth client secrets, written as `<service>.client-secret`, the auth server's CLIENT_SECRETS_DIR layout. */
  clientSecrets?: Readonly<Record<string, string>>;
  /** Where to write; a new temp dir by default. */
  dir?: string;
}

/**
 * A throwaway PKI for a test or a benchmark run: a fresh CA, a certificate and key per service,
 * and the services' OAuth client secrets, in one folder. `env(service)` gives the keys of
 * `serviceEnv` that point a service at its files.
 *
 * @example
 * const pki = await TestPki.create({ trustDomain: 'acme.test', services: ['gateway', 'order'] });
 * const order = new AppProcess('order', await freePort(), { ...pki.env('order'), AUTH_ISSUER: issuer });
 * // ... pki.clientTls('gateway', 'order') to call it as the gateway; pki.remove() at the end
 */
export class TestPki {
  private constructor(
    readonly dir: string,
    readonly trustDomain: string,
    /** The CA, to issue more certificates in a test (expired, for an unknown service ...). */
    readonly ca: CertificateAuthority,
    private readonly clientSecrets: Readonly<Record<string, string>>,
  ) {}

  static async create(options: TestPkiOptions): Promise<TestPki> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'acme-pki-'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = await createCertificateAuthority(`${options.trustDomain} test CA`);
    const pki = new TestPki(dir, options.trustDomain, ca, options.clientSecrets ?? {});
    writeFileSync(pki.file('ca.crt'), ca.certPem);
    for (const service of options.services) {
      const issued = await issueServiceCertificate(ca, service, options.trustDomain);
      writeFileSync(pki.file(`${service}.crt`), issued.certPem);
      writeFileSync(pki.file(`${service}.key`), issued.keyPem, { mode: 0o600 });
    }
    for (const [service, secret] of Object.entries(pki.clientSecrets)) {
      writeFileSync(pki.file(`${service}.client-secret`), secret, { mode: 0o600 });
    }
    return pki;
  }

  /** Path of a file in the PKI's folder. */
  file(name: string): string {
    return join(this.dir, name);
  }

  /** TRUST_DOMAIN, the TLS_*_FILE keys, and AUTH_CLIENT_SECRET_FILE when the service has a secret. */
  env(service: string): Record<string, string> {
    return {
      TRUST_DOMAIN: this.trustDomain,
      TLS_CA_FILE: this.file('ca.crt'),
      TLS_CERT_FILE: this.file(`${service}.crt`),
      TLS_KEY_FILE: this.file(`${service}.key`),
      ...(this.clientSecrets[service] !== undefined && {
        AUTH_CLIENT_SECRET_FILE: this.file(`${service}.client-secret`),
      }),
    };
  }

  /**
   * The SHA-256 thumbprint of `service`'s certificate, as a token bound to it carries it
   * (RFC 8705 `cnf.x5t#S256`): what an exchange over its mutual TLS would give it.
   */
  certificateThumbprint(service: string): string {
    return certificateThumbprint(
      new X509Certificate(readFileSync(this.file(`${service}.crt`))).raw,
    );
  }

  /** TLS options of a client presenting `service`'s certificate to the server named `servername`. */
  clientTls(service: string, servername: string): ConnectionOptions {
    return {
      ca: readFileSync(this.file('ca.crt')),
      cert: readFileSync(this.file(`${service}.crt`)),
      key: readFileSync(this.file(`${service}.key`)),
      servername,
      rejectUnauthorized: true,
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
