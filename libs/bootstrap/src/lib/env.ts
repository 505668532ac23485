import { existsSync } from 'node:fs';
import { z } from 'zod';

/**
 * Parses the environment against a schema and fails with every bad key named,
 * so a misconfigured service stops at start-up, not on its first request.
 *
 * @example
 * ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: (env) => parseEnv(orderEnv, env) })
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, unknown>): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
}

/** An integer from an env string, with bounds. */
export function intEnv(defaultValue: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/** `true`/`false` from an env string; anything else is an error, not a silent false. */
export function boolEnv(defaultValue: boolean) {
  return z
    .enum(['true', 'false'])
    .default(defaultValue ? 'true' : 'false')
    .transform((value) => value === 'true');
}

/** A path to a file that must exist (certificates, keys, secrets mounted as files). */
export function fileEnv(defaultPath: string) {
  return z
    .string()
    .min(1)
    .default(defaultPath)
    .refine((path) => existsSync(path), {
      error: (issue) => `no file at ${String(issue.input)} (run npm run dev:setup in development)`,
    });
}

/** `host:port` of another service. */
export function addressEnv(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((value, context) => {
      const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
      const port = match ? Number(match[2]) : 0;
      if (!match || port < 1 || port > 65535) {
        context.addIssue({ code: 'custom', message: `expected host:port, got "${value}"` });
        return z.NEVER;
      }
      return { host: match[1].replace(/^\[|\]$/g, ''), port };
    });
}

/** A comma-separated list. */
export function listEnv(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );
}
