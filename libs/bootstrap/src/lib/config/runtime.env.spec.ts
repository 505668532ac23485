import { z } from 'zod';
import { parseEnv } from '../env';
import type { ConfigReader } from './config-reader';
import { BENCH_INSECURE_CONSENT, benchmarkInsecureFrom } from './runtime.env';
import { authOptionsFrom } from './token-verification.env';
import { serviceEnv } from './service.env';
import type { ServiceEnv } from './service.env';

const schema = z.object(serviceEnv('order'));

/** The validated configuration of `env`, read the way ConfigService reads it. */
function configOf(env: Record<string, string>): ConfigReader<ServiceEnv> {
  const values = parseEnv(schema, env) as ServiceEnv;
  return { get: (key) => values[key] };
}

describe('BENCH_INSECURE', () => {
  it.each(['production', 'test', 'development'])(
    'is refused with NODE_ENV=%s, naming the key',
    (nodeEnv) => {
      const config = configOf({ NODE_ENV: nodeEnv, BENCH_INSECURE: BENCH_INSECURE_CONSENT });

      expect(() => benchmarkInsecureFrom(config)).toThrow(/BENCH_INSECURE: refused with NODE_ENV=/);
    },
  );

  it('is refused when NODE_ENV is not set (development by default)', () => {
    expect(() =>
      benchmarkInsecureFrom(configOf({ BENCH_INSECURE: BENCH_INSECURE_CONSENT })),
    ).toThrow(/BENCH_INSECURE/);
  });

  it('keeps a production service from building its auth options, so it never starts', () => {
    const config = configOf({ NODE_ENV: 'production', BENCH_INSECURE: BENCH_INSECURE_CONSENT });

    expect(() => authOptionsFrom(config, 'order')).toThrow(/BENCH_INSECURE/);
  });

  it.each(['true', '1', 'yes'])(
    'accepts no value but the consent phrase (%s is refused)',
    (value) => {
      expect(() => configOf({ NODE_ENV: 'benchmark', BENCH_INSECURE: value })).toThrow(
        /BENCH_INSECURE:/,
      );
    },
  );

  it('switches security off only with NODE_ENV=benchmark and the consent phrase', () => {
    const config = configOf({ NODE_ENV: 'benchmark', BENCH_INSECURE: BENCH_INSECURE_CONSENT });

    expect(benchmarkInsecureFrom(config)).toBe(true);
    expect(authOptionsFrom(config, 'order').benchmarkInsecure).toBe(true);
  });

  it('leaves security on when unset, even with NODE_ENV=benchmark', () => {
    expect(benchmarkInsecureFrom(configOf({ NODE_ENV: 'benchmark' }))).toBe(false);
    const production = configOf({
      NODE_ENV: 'production',
      AUTH_ISSUER: 'https://login.acme.example',
    });
    expect(authOptionsFrom(production, 'order').benchmarkInsecure).toBe(false);
  });
});
