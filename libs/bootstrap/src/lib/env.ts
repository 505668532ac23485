import { existsSync, readFileSync } from 'node:fs';
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

/** An optional path to a file that must exist when given. */
export function optionalFileEnv() {
  return z
    .string()
    .min(1)
    .optional()
    .refine((path) => path === undefined || existsSync(path), {
      error: (issue) => `no file at ${String(issue.input)}`,
    });
}

/**
 * A value that carries a password (a database or Redis URL), given inline as
 * `key` or, as Docker and Kubernetes mount secrets, in the file `<key>_FILE`.
 * Reads the file at start-up and checks its content with `schema`; the
 * content is never part of an error, since it is a secret.
 *
 * @example
 * const url = inlineOrFile('DATABASE_URL', env.DATABASE_URL, env.DATABASE_URL_FILE, postgresUrl);
 */
export function inlineOrFile<T>(
  key: string,
  inline: T | undefined,
  file: string | undefined,
  schema: z.ZodType<T>,
): T | undefined {
  if (file === undefined) return inline;
  if (inline !== undefined) {
    throw new Error(`Invalid configuration:\n  ${key}_FILE: set ${key} or ${key}_FILE, not both`);
  }
  const value = schema.safeParse(readFileSync(file, 'utf8').trim());
  if (!value.success) {
    throw new Error(
      `Invalid configuration:\n  ${key}_FILE: ${file} does not hold a valid ${key} (${value.error.issues[0]?.message ?? 'invalid'})`,
    );
  }
  return value.data;
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
