import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../env';
import { brokerEnv, brokerOptionsFrom } from './broker.env';
import type { ConfigReader } from './config-reader';
import { serviceEnv } from './service.env';

const schema = z.object({ ...serviceEnv('payment'), ...brokerEnv() });
type Env = z.infer<typeof schema>;

function configOf(env: Record<string, string>): ConfigReader<Env> {
  const values = parseEnv(schema, env) as Env;
  return { get: (key) => values[key] };
}

describe('BROKER_URL', () => {
  let dir: string;
  let files: Record<'TLS_CA_FILE' | 'TLS_CERT_FILE' | 'TLS_KEY_FILE', string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'broker-env-'));
    files = {
      TLS_CA_FILE: join(dir, 'ca.crt'),
      TLS_CERT_FILE: join(dir, 'payment.crt'),
      TLS_KEY_FILE: join(dir, 'payment.key'),
    };
    for (const [key, path] of Object.entries(files)) writeFileSync(path, `${key} PEM`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is unset by default: no broker, events go the direct way', () => {
    expect(brokerOptionsFrom(configOf(files), 'payment')).toBeUndefined();
  });

  it("connects over TLS as the service, with the service's certificate", () => {
    const options = brokerOptionsFrom(
      configOf({ ...files, BROKER_URL: 'tls://nats:4222', TRUST_DOMAIN: 'acme.test' }),
      'payment',
    );
    expect(options).toMatchObject({
      url: 'tls://nats:4222',
      service: 'payment',
      trustDomain: 'acme.test',
    });
    expect(options?.tls.cert.toString()).toBe('TLS_CERT_FILE PEM');
  });

  it('refuses a plaintext nats:// URL at start-up, naming the key', () => {
    expect(() => configOf({ ...files, BROKER_URL: 'nats://nats:4222' })).toThrow(/BROKER_URL/);
    expect(() => configOf({ ...files, BROKER_URL: 'nats://nats:4222' })).toThrow(/tls:\/\//);
  });

  it('refuses credentials in the URL: the certificate is the credential', () => {
    expect(() => configOf({ ...files, BROKER_URL: 'tls://payment:secret@nats:4222' })).toThrow(
      /must not carry credentials/,
    );
  });

  it('reads BROKER_URL_FILE, checks its content and refuses both at once', () => {
    const file = join(dir, 'broker-url');
    writeFileSync(file, 'tls://nats:4222\n');
    expect(brokerOptionsFrom(configOf({ ...files, BROKER_URL_FILE: file }), 'payment')?.url).toBe(
      'tls://nats:4222',
    );
    expect(() =>
      brokerOptionsFrom(
        configOf({ ...files, BROKER_URL_FILE: file, BROKER_URL: 'tls://nats:4222' }),
        'payment',
      ),
    ).toThrow('BROKER_URL_FILE: set BROKER_URL or BROKER_URL_FILE, not both');
    writeFileSync(file, 'nats://nats:4222');
    expect(() =>
      brokerOptionsFrom(configOf({ ...files, BROKER_URL_FILE: file }), 'payment'),
    ).toThrow(/BROKER_URL_FILE: .* does not hold a valid BROKER_URL/);
  });

  it('stops start-up naming the TLS key whose file is missing', () => {
    expect(() =>
      brokerOptionsFrom(
        configOf({ ...files, TLS_CERT_FILE: join(dir, 'nope.crt'), BROKER_URL: 'tls://nats:4222' }),
        'payment',
      ),
    ).toThrow(/TLS_CERT_FILE: no file at/);
  });
});
