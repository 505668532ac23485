import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../env';
import type { ConfigReader } from './config-reader';
import { BENCH_INSECURE_CONSENT } from './runtime.env';
import { authOptionsFrom } from './token-verification.env';
import { transportSecurityFrom } from './transport-security.env';
import { serviceEnv } from './service.env';
import type { ServiceEnv } from './service.env';

const schema = z.object(serviceEnv('order'));

/** The validated configuration of `env`, read the way ConfigService reads it. */
function configOf(env: Record<string, string>): ConfigReader<ServiceEnv> {
  const values = parseEnv(schema, env) as ServiceEnv;
  return { get: (key) => values[key] };
}

describe('TRANSPORT_SECURITY', () => {
  let dir: string;
  let files: Record<'TLS_CA_FILE' | 'TLS_CERT_FILE' | 'TLS_KEY_FILE', string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'transport-security-env-'));
    files = {
      TLS_CA_FILE: join(dir, 'ca.crt'),
      TLS_CERT_FILE: join(dir, 'order.crt'),
      TLS_KEY_FILE: join(dir, 'order.key'),
    };
    for (const [key, path] of Object.entries(files)) writeFileSync(path, `${key} PEM`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is tls by default: mutual TLS with the certificate files and the minimum version', () => {
    const security = transportSecurityFrom(configOf({ ...files, TLS_MIN_VERSION: 'TLSv1.2' }));

    expect(security).toEqual({
      mode: 'mtls',
      minVersion: 'TLSv1.2',
      tls: {
        ca: Buffer.from('TLS_CA_FILE PEM'),
        cert: Buffer.from('TLS_CERT_FILE PEM'),
        key: Buffer.from('TLS_KEY_FILE PEM'),
      },
    });
    expect(authOptionsFrom(configOf(files), 'order').peerIdentity).toBe('certificate');
  });

  it('stops start-up with tls when a certificate file is missing, naming each key', () => {
    const config = configOf({
      ...files,
      TLS_CERT_FILE: '/nonexistent/order.crt',
      TLS_KEY_FILE: '/nonexistent/order.key',
    });

    expect(() => transportSecurityFrom(config)).toThrow(
      'Invalid configuration:\n  TLS_CERT_FILE: no file at /nonexistent/order.crt (run npm run dev:setup in development)\n  TLS_KEY_FILE: no file at /nonexistent/order.key',
    );
  });

  it('with mesh, leaves mutual TLS and the caller check to the mesh and needs no certificate', () => {
    const config = configOf({ TRANSPORT_SECURITY: 'mesh', TLS_CA_FILE: '/nonexistent/ca.crt' });

    expect(transportSecurityFrom(config)).toEqual({ mode: 'mesh' });
    expect(authOptionsFrom(config, 'order').peerIdentity).toBe('mesh');
  });

  it('refuses any other value, naming the key', () => {
    expect(() => configOf({ TRANSPORT_SECURITY: 'none' })).toThrow(/TRANSPORT_SECURITY:/);
  });

  it('gives way to a benchmark without security, and only there', () => {
    const benchmark = configOf({ NODE_ENV: 'benchmark', BENCH_INSECURE: BENCH_INSECURE_CONSENT });

    expect(transportSecurityFrom(benchmark)).toEqual({ mode: 'benchmark-insecure' });
    expect(() =>
      transportSecurityFrom(
        configOf({
          NODE_ENV: 'production',
          BENCH_INSECURE: BENCH_INSECURE_CONSENT,
          TRANSPORT_SECURITY: 'mesh',
        }),
      ),
    ).toThrow(/BENCH_INSECURE: refused/);
  });
});
