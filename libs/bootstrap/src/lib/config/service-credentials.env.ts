import { z } from 'zod';

/**
 * Keys of a service that also acts as itself (an event it emits), with a
 * client-credentials token: the scopes it asks for. Its client id and secret
 * are those of `callerEnv`.
 */
export function serviceTokenEnv(scope: string) {
  return {
    AUTH_CLIENT_SCOPE: z
      .string()
      .min(1)
      .default(scope)
      .describe('Scopes this service asks for when it acts for itself.'),
  };
}
