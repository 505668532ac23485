import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { TestPki } from './test-pki';

describe(TestPki.name, () => {
  let pki: TestPki;

  beforeAll(async () => {
    pki = await TestPki.create({
      trustDomain: 'acme.test',
      services: ['gateway', 'order'],
      clientSecrets: { order: 'order-secret' },
    });
  });
  afterAll(() => pki.remove());

  it("points a service at its own certificate and key, of the PKI's CA", () => {
    const env = pki.env('order');
    const ca = new X509Certificate(readFileSync(env['TLS_CA_FILE']));
    const cert = new X509Certificate(readFileSync(env['TLS_CERT_FILE']));
    expect(env['TRUST_DOMAIN']).toBe('acme.test');
    expect(cert.subjectAltName).toContain('URI:spiffe://acme.test/order');
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(existsSync(env['TLS_KEY_FILE'])).toBe(true);
  });

  it('gives a service its client secret file, and none to a service without a secret', () => {
    expect(readFileSync(pki.env('order')['AUTH_CLIENT_SECRET_FILE'], 'utf8')).toBe('order-secret');
    expect(pki.env('gateway')).not.toHaveProperty('AUTH_CLIENT_SECRET_FILE');
  });

  it('removes every file', async () => {
    const other = await TestPki.create({ trustDomain: 'acme.test', services: ['order'] });
    other.remove();
    expect(existsSync(other.dir)).toBe(false);
  });
});
