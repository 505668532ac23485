import { z } from 'zod';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';

/** The one value of `BENCH_INSECURE` that switches security off, and only under `NODE_ENV=benchmark`. */
export const BENCH_INSECURE_CONSENT = 'i-understand-this-disables-security';

/** Keys of the runtime mode every service shares. */
export function runtimeEnv() {
  return {
    NODE_ENV: z
      .enum(['development', 'production', 'test', 'benchmark'])
      .default('development')
      .describe('Runtime mode; `benchmark` is for `npm run bench` only.'),
    BENCH_INSECURE: z
      .literal(BENCH_INSECURE_CONSENT)
      .optional()
      .describe(
        `Benchmark only, refused unless NODE_ENV=benchmark: \`${BENCH_INSECURE_CONSENT}\` turns off mutual TLS, token verification and every guard, to measure what they cost.`,
      ),
  };
}

export type RuntimeEnv = z.infer<z.ZodObject<ReturnType<typeof runtimeEnv>>>;

/**
 * Whether this is a benchmark run without security. Throws, naming the key,
 * when `BENCH_INSECURE` is set under any `NODE_ENV` but `benchmark`: no
 * production, test or development configuration can switch security off.
 */
export function benchmarkInsecureFrom(config: ConfigReader<RuntimeEnv>): boolean {
  const env = readConfig(config, ['NODE_ENV', 'BENCH_INSECURE']);
  if (env.BENCH_INSECURE === undefined) return false;
  if (env.NODE_ENV !== 'benchmark') {
    throw new Error(
      `Invalid configuration:\n  BENCH_INSECURE: refused with NODE_ENV=${env.NODE_ENV}; it switches security off and is accepted only with NODE_ENV=benchmark`,
    );
  }
  return true;
}
