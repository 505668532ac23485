import { readFileSync } from 'node:fs';
import type { ServiceCredentials } from '@acme/auth';
import { z } from 'zod';
import { fileEnv } from '../env';
import { readConfig } from './config-reader';
import type { ConfigReader } from './config-reader';
import type { CallerEnv } from './service-calls.env';
import type { TokenVerificationEnv } from './token-verification.env';

/** Keys of a service that authenticates as itself (client credentials). */
export function serviceClientEnv(service: string, scope: string) {
  return {
    AUTH_CLIENT_ID: z.string().min(1).default(service).describe("This service's OAuth client id."),
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
    'AUTH_ISSUER',
    'AUTH_CLIENT_ID',
    'AUTH_CLIENT_SECRET_FILE',
    'AUTH_CLIENT_SCOPE',
    'CALL_TIMEOUT_MS',
  ]);
  return {
    issuer: env.AUTH_ISSUER,
    clientId: env.AUTH_CLIENT_ID,
    clientSecret: readFileSync(env.AUTH_CLIENT_SECRET_FILE, 'utf8').trim(),
    scope: env.AUTH_CLIENT_SCOPE,
    timeoutMs: env.CALL_TIMEOUT_MS,
  };
}
