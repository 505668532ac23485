import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 schemas through tsyringe
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import type { webcrypto as WebCrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The provider type is the global `Crypto`, which only some tsconfigs (with the DOM lib) declare.
x509.cryptoProvider.set(
  webcrypto as unknown as NonNullable<Parameters<typeof x509.PublicKey.create>[1]>,
);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateAuthority {
  certificate: x509.X509Certificate;
  keys: WebCrypto.CryptoKeyPair;
  /** PEM of the CA certificate. */
  certPem: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** A self-signed ECDSA P-256 CA. */
export async function createCertificateAuthority(
  name: string,
  validDays = 365,
): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as WebCrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + validDays * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  return { certificate, keys, certPem: certificate.toString('pem') };
}

/**
 * A service certificate for mutual TLS: SANs `DNS:<service>`, `DNS:localhost`,
 * `IP:127.0.0.1` and `URI:spiffe://<trustDomain>/<service>`, usable as both
 * server and client.
 */
export async function issueServiceCertificate(
  ca: CertificateAuthority,
  service: string,
  trustDomain: string,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<IssuedCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as WebCrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${service}`,
    issuer: ca.certificate.subject,
    notBefore: validity.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: validity.notAfter ?? new Date(Date.now() + 90 * DAY_MS),
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: service },
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'url', value: `spiffe://${trustDomain}/${service}` },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: certificate.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}

/**
 * Writes a dev CA, one certificate and key per service, and one OAuth client
 * secret per service into `dir` (`certs/`, `secrets/`).
 */
export async function writeDevPki(
  dir: string,
  services: readonly string[],
  trustDomain: string,
): Promise<void> {
  const certs = join(dir, 'certs');
  const secrets = join(dir, 'secrets');
  mkdirSync(certs, { recursive: true, mode: 0o700 });
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority(`${trustDomain} dev CA`);
  writeFileSync(join(certs, 'ca.crt'), ca.certPem);
  for (const service of services) {
    const issued = await issueServiceCertificate(ca, service, trustDomain);
    writeFileSync(join(certs, `${service}.crt`), issued.certPem);
    writeFileSync(join(certs, `${service}.key`), issued.keyPem, { mode: 0o600 });
    writeFileSync(
      join(secrets, `${service}.client-secret`),
      randomBytes(32).toString('base64url'),
      { mode: 0o600 },
    );
  }
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // a positive serial number
  return bytes.toString('hex');
}

function toPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
