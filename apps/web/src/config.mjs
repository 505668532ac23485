import { z } from 'zod';

const DEV_DEFAULTS = { GATEWAY_URL: 'http://localhost:3000', AUTH_ISSUER: 'http://localhost:3001' };

/** Every setting of the web server, with its default and meaning (the README's table comes from here). */
export const webEnv = z.object({
  NODE_ENV: z
    .string()
    .default('development')
    .describe('In `production`, GATEWAY_URL and AUTH_ISSUER are required and must use https.'),
  HOST: z
    .string()
    .default('127.0.0.1')
    .describe('Interface to listen on (`0.0.0.0` in a container).'),
  PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(4200)
    .describe(
      'HTTP port. The `web` client registered at the issuer names this origin in its redirect URIs.',
    ),
  GATEWAY_URL: z
    .url()
    .optional()
    .describe(
      'Base URL of the API gateway the page calls. Required in production; else `http://localhost:3000`.',
    ),
  AUTH_ISSUER: z
    .url()
    .optional()
    .describe(
      'Issuer the page signs in with (OpenID discovery). Required in production; else `http://localhost:3001`.',
    ),
  CLIENT_ID: z
    .string()
    .min(1)
    .default('web')
    .describe('OAuth client id of this app at the issuer.'),
});

/**
 * Validates the environment once, failing with every bad key at once.
 *
 * @example
 * const config = readConfig(process.env); // { host, port, gatewayUrl, issuer, clientId }
 */
export function readConfig(env) {
  const parsed = webEnv.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (env.NODE_ENV === 'production') {
    for (const key of ['GATEWAY_URL', 'AUTH_ISSUER']) {
      if (!env[key]) problems.push(`${key}: required in production`);
      else if (!env[key].startsWith('https://'))
        problems.push(`${key}: must use https in production`);
    }
  }
  if (problems.length) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  const value = parsed.data;
  return {
    host: value.HOST,
    port: value.PORT,
    // The issuer identifier is compared verbatim with the discovery document's, so it is kept as given.
    issuer: value.AUTH_ISSUER ?? DEV_DEFAULTS.AUTH_ISSUER,
    gatewayUrl: (value.GATEWAY_URL ?? DEV_DEFAULTS.GATEWAY_URL).replace(/\/+$/, ''),
    clientId: value.CLIENT_ID,
  };
}
