import { readFileSync } from 'node:fs';
import type { ServiceCredentials } from '@acme/auth';
import { z } from 'zod';
import { fileEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import type { CallerEnv } from './service-calls.env';
import { issuerFrom } from './token-verification.env';
import type { TokenVerificationEnv } from './token-verification.env';

/** Keys of a service that authenticates as itself (client credentials). */
export function serviceClientEnv(service: string, scope: string) {
  return {
    AUTH_CLIENT_ID: z
      .string()
      .min(1)
      .default(service)
      .describe(
        "This service's OAuth client id; with a provider that generates ids, the same as its entry in AUTH_SERVICE_CLIENTS.",
      ),
    AUTH_CLIENT_SECRET_FILE: fileEnv(`.dev/secrets/${service}.client-secret`).describe(
      "File holding this service's OAuth client secret.",
    ),
    AUTH_CLIENT_SCOPE: z
      .string()
      .min(1)
      .default(scope)
      .describe('Scopes this service asks for when it acts for itself.'),
  };
}

type ServiceClientEnv = z.infer<z.ZodObject<ReturnType<typeof serviceClientEnv>>>;

/** The service's own OAuth client, for calls it makes as itself. */
export function serviceCredentialsFrom(
  config: ConfigReader<TokenVerificationEnv & CallerEnv & ServiceClientEnv>,
): ServiceCredentials {
  const env = readConfig(config, [
    'AUTH_PROVIDER',
    'AUTH_AUDIENCE',
    'AUTH_CLIENT_ID',
    'AUTH_CLIENT_SECRET_FILE',
    'AUTH_CLIENT_SCOPE',
    'CALL_TIMEOUT_MS',
  ]);
  return {
    issuer: issuerFrom(config),
    clientId: env.AUTH_CLIENT_ID,
    clientSecret: readFileSync(env.AUTH_CLIENT_SECRET_FILE, 'utf8').trim(),
    scope: env.AUTH_CLIENT_SCOPE,
    timeoutMs: env.CALL_TIMEOUT_MS,
    // Auth0 issues a client-credentials token for the API named by `audience` (its docs' example).
    ...(env.AUTH_PROVIDER === 'auth0' ? { audience: env.AUTH_AUDIENCE } : {}),
  };
}
