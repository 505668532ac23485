import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientMetadata } from 'oidc-provider';
import { z } from 'zod';
import { API_SCOPES } from './scope-policy';
import { TOKEN_EXCHANGE_GRANT } from './token-exchange';
import { randomSecret, readOrCreateSecretFile } from './secret-files';

const clientsFileSchema = z
  .array(
    z
      .looseObject({
        client_id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
        token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
        grant_types: z
          .array(
            z.enum([
              'authorization_code',
              'refresh_token',
              'client_credentials',
              TOKEN_EXCHANGE_GRANT,
            ]),
          )
          .optional(),
        /** Our own metadata: consent is implied for first-party clients (see InteractionService). */
        first_party: z.boolean().default(false),
        /** Our own metadata: the API scopes this client may ask for. */
        api_scopes: z.array(z.enum(API_SCOPES)).default([]),
        /** Our own metadata: the audience of the client's service; only tokens for it may be exchanged. */
        resource_audience: z.string().min(1).optional(),
        /** Our own metadata: audiences of the services it calls, which it may get tokens for. */
        call_audiences: z.array(z.string().min(1)).default([]),
        /**
         * Our own metadata: the service a confidential client is, as its certificate names it
         * (`spiffe://<TRUST_DOMAIN>/<service>`). Its tokens are issued over that certificate only.
         */
        service: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*$/)
          .optional(),
      })
      .refine((client) => !('client_secret' in client), {
        message: 'client secrets never go in the clients file; they live in CLIENT_SECRETS_DIR',
      })
      .refine(
        (client) =>
          !client.grant_types?.includes(TOKEN_EXCHANGE_GRANT) ||
          client.resource_audience !== undefined,
        { message: 'a client that exchanges tokens needs the resource_audience of its service' },
      )
      .refine(
        (client) =>
          (client.token_endpoint_auth_method === 'none') === (client.service === undefined),
        {
          message:
            'a confidential client names its service (the SPIFFE ID of its certificate), a public one none',
          path: ['service'],
        },
      ),
  )
  // One service, one client: an entry copied from another and left naming its service would give
  // that service's certificate the tokens of both clients.
  .superRefine((clients, ctx) => {
    const seen = new Set<string>();
    for (const { service } of clients) {
      if (service === undefined) continue;
      if (seen.has(service)) ctx.addIssue(`two clients name the service ${service}`);
      seen.add(service);
    }
  });

/**
 * The registered clients, each confidential one with its secret read from
 * `<secretsDir>/<client_id>.client-secret`, the file the client itself reads. With `generate`
 * (outside production) a missing secret file is created.
 */
export function loadClients(
  clientsFile: string,
  secretsDir: string,
  { generate }: { generate: boolean },
): ClientMetadata[] {
  const parsed = clientsFileSchema.safeParse(JSON.parse(readFileSync(clientsFile, 'utf8')));
  if (!parsed.success) {
    throw new Error(`Invalid clients file ${clientsFile}: ${z.prettifyError(parsed.error)}`);
  }

  return parsed.data.map((client) => {
    if (client.token_endpoint_auth_method === 'none') return client;
    const file = join(secretsDir, `${client.client_id}.client-secret`);
    const secret = (
      generate
        ? readOrCreateSecretFile(file, () => `${randomSecret()}\n`)
        : readFileSync(file, 'utf8')
    ).trim();
    if (secret.length < 32) {
      throw new Error(`The client secret in ${file} is shorter than 32 characters.`);
    }
    return { ...client, client_secret: secret };
  });
}
