import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { addressEnv, parseEnv } from '../env';
import type { ConfigReader } from './config-reader';
import { calleeAudienceEnv, callerEnv, serviceClientsFrom } from './service-calls.env';
import type { CallerEnv } from './service-calls.env';
import { serviceTokenEnv } from './service-credentials.env';
import { serviceEnv } from './service.env';

/** order's keys as a caller of payment; payment's too when it acts as itself. */
const orderSchema = z.object({
  ...serviceEnv('order'),
  ...callerEnv('order'),
  PAYMENT_ADDRESS: addressEnv('localhost:4002'),
  PAYMENT_AUDIENCE: calleeAudienceEnv('payment'),
});
const actingSchema = orderSchema.extend(serviceTokenEnv('orders:settle'));

/** The validated configuration of `env`, read the way ConfigService reads it. */
function configOf(env: Record<string, string>, schema: z.ZodObject = orderSchema) {
  const values = parseEnv(schema, { TRANSPORT_SECURITY: 'mesh', ...env }) as Record<
    string,
    unknown
  >;
  return { get: (key: string) => values[key] } as ConfigReader<CallerEnv>;
}

describe(serviceClientsFrom.name, () => {
  const secretFile = join(mkdtempSync(join(tmpdir(), 'service-calls-')), 'order.client-secret');
  writeFileSync(secretFile, 'order-secret\n');

  it("exchanges tokens by default, as this service's client, for each callee's own audience", () => {
    const options = serviceClientsFrom(configOf({ AUTH_CLIENT_SECRET_FILE: secretFile }), [
      'payment',
    ]);

    expect(options).toMatchObject({
      delegation: 'exchange',
      addresses: { payment: { host: 'localhost', port: 4002 } },
      audiences: { payment: 'urn:acme:payment' },
      credentials: {
        clientId: 'order',
        clientSecret: 'order-secret',
        targetParameter: 'resource',
      },
    });
    // It never acts as itself: no scopes, so no client-credentials tokens.
    expect(options.credentials?.scope).toBeUndefined();
  });

  it('refuses to start without the client secret token exchange needs, naming the key', () => {
    expect(() =>
      serviceClientsFrom(configOf({ AUTH_CLIENT_SECRET_FILE: '/nonexistent/secret' }), ['payment']),
    ).toThrow(/AUTH_CLIENT_SECRET_FILE: no file at \/nonexistent\/secret/);
  });

  it('needs no client secret when it forwards tokens and never acts as itself', () => {
    const options = serviceClientsFrom(
      configOf({ AUTH_DELEGATION: 'forward', AUTH_CLIENT_SECRET_FILE: '/nonexistent/secret' }),
      ['payment'],
    );

    expect(options).toMatchObject({ delegation: 'forward' });
    expect(options.credentials).toBeUndefined();
  });

  it('has credentials with its scopes when it acts as itself, and names the callee as Auth0 wants', () => {
    const options = serviceClientsFrom(
      configOf(
        {
          AUTH_DELEGATION: 'forward',
          AUTH_PROVIDER: 'auth0',
          AUTH_CLIENT_SECRET_FILE: secretFile,
          PAYMENT_AUDIENCE: 'https://api.acme.example',
        },
        actingSchema,
      ),
      ['payment'],
    );

    expect(options).toMatchObject({
      audiences: { payment: 'https://api.acme.example' },
      credentials: { scope: 'orders:settle', targetParameter: 'audience' },
    });
  });

  it('refuses a callee whose audience the configuration does not define, naming the key', () => {
    expect(() =>
      serviceClientsFrom(configOf({ AUTH_CLIENT_SECRET_FILE: secretFile }), ['inventory']),
    ).toThrow(/INVENTORY_ADDRESS: not configured/);
  });
});
