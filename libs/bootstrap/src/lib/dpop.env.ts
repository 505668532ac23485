import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { ASYMMETRIC_ALGORITHMS, RedisReplayCache } from '@acme/auth';
import type { AuthProvider, DpopOptions } from '@acme/auth';
import { createRedisClient } from '@acme/edge';
import type { RedisStoreOptions } from '@acme/edge';
import { z } from 'zod';
import { readConfig } from './config/config-reader';
import type { ConfigReader } from './config/config-reader';
import { boolEnv, intEnv, optionalFileEnv } from './env';

/** Keys of DPoP (RFC 9449) at an HTTP app: part of `httpAppEnv`. */
export function dpopEnv() {
  return {
    AUTH_DPOP: z
      .enum(['allowed', 'required'])
      .optional()
      .describe(
        "DPoP (RFC 9449) for the tokens of public clients: `required`, every token must be DPoP-bound (`cnf.jkt`) and come with the `DPoP` scheme and a valid proof; `allowed`, a DPoP-bound token still needs its proof while a token bound to nothing passes as a bearer token (issuers or clients without DPoP). A DPoP-bound token sent as `Bearer` is always refused. Default `required` with AUTH_PROVIDER=generic (the bundled auth server binds the web client's and the token CLI's tokens), `allowed` with the keycloak, auth0 and okta profiles (docs/providers/).",
      ),
    AUTH_DPOP_PUBLIC_ORIGIN: z
      .url({ protocol: /^https?$/ })
      .refine((url) => new URL(url).origin === url, 'must be an origin: scheme, host and port only')
      .optional()
      .describe(
        "The origin clients address this API at (`https://api.acme.example`): a DPoP proof's `htu` must be it plus the request path, whatever proxies rewrote the Host to. Default outside production `http://localhost:<PORT>`; in production, unset, no proof can be checked and DPoP-bound tokens are refused.",
      ),
    AUTH_DPOP_PROOF_MAX_AGE_SEC: intEnv(60, 5, 300).describe(
      "How old a DPoP proof's `iat` may be, in seconds; its `jti` is remembered that long (in Redis when the app has one, shared by every replica), so a proof is accepted once.",
    ),
    AUTH_DPOP_NONCE: boolEnv(false).describe(
      'Require a server nonce in every DPoP proof (RFC 9449 9): a proof without a recent one gets 401 `use_dpop_nonce` with the nonce to retry with in `DPoP-Nonce`, so a proof made in advance is worthless. A nonce lasts one to two AUTH_DPOP_PROOF_MAX_AGE_SEC; answers carry the next one before it expires.',
    ),
    AUTH_DPOP_NONCE_SECRET_FILE: optionalFileEnv().describe(
      "File holding the secret that makes and checks DPoP nonces, the same on every replica (at least 32 characters; never logged). Required in production with AUTH_DPOP_NONCE; unset elsewhere, each process makes its own, and a client switching replicas retries once with the other's nonce.",
    ),
  };
}

type DpopEnv = z.infer<z.ZodObject<ReturnType<typeof dpopEnv>>>;

/** What {@link dpopOptionsFrom} reads: the DPoP keys, and the app's port, runtime and issuer profile. */
export type DpopConfig = DpopEnv & { PORT: number; NODE_ENV: string; AUTH_PROVIDER: AuthProvider };

const KEYS = [
  ...(Object.keys(dpopEnv()) as (keyof DpopEnv)[]),
  'PORT',
  'NODE_ENV',
  'AUTH_PROVIDER',
] as const;

/**
 * DPoP at an HTTP app: how proofs are checked, and where their `jti` are
 * remembered (the app's Redis, shared by every replica; else this process's
 * memory). In production without AUTH_DPOP_PUBLIC_ORIGIN no proof can be
 * checked, so DPoP-bound tokens are refused (and AUTH_DPOP=required cannot start).
 *
 * @example
 * AuthModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => ({
 *   ...authOptionsFrom(config, SERVICE_NAME),
 *   dpop: dpopOptionsFrom(config, { redis }),
 * }) });
 */
export function dpopOptionsFrom(
  config: ConfigReader<DpopConfig>,
  stores: { redis?: RedisStoreOptions } = {},
): DpopOptions | undefined {
  const env = readConfig(config, KEYS);
  // The bundled issuer binds every public client's token; external ones only where set up to.
  const mode = env.AUTH_DPOP ?? (env.AUTH_PROVIDER === 'generic' ? 'required' : 'allowed');
  const production = env.NODE_ENV === 'production';
  if (env.AUTH_DPOP_PUBLIC_ORIGIN === undefined && production) {
    if (mode === 'required') {
      throw new Error(
        'Invalid configuration:\n  AUTH_DPOP_PUBLIC_ORIGIN: required in production with AUTH_DPOP=required',
      );
    }
    new Logger('Configuration').warn(
      'AUTH_DPOP_PUBLIC_ORIGIN is not set: DPoP proofs cannot be checked, DPoP-bound tokens are refused',
    );
    return undefined;
  }
  return {
    mode,
    publicOrigin: env.AUTH_DPOP_PUBLIC_ORIGIN ?? `http://localhost:${env.PORT}`,
    maxAgeSec: env.AUTH_DPOP_PROOF_MAX_AGE_SEC,
    algorithms: ASYMMETRIC_ALGORITHMS,
    replayCache: stores.redis && new RedisReplayCache(createRedisClient(stores.redis)),
    nonceSecret: env.AUTH_DPOP_NONCE ? nonceSecretFrom(env, production) : undefined,
  };
}

function nonceSecretFrom(env: DpopEnv, production: boolean): Buffer {
  const file = env.AUTH_DPOP_NONCE_SECRET_FILE;
  if (file === undefined) {
    if (production) {
      throw new Error(
        'Invalid configuration:\n  AUTH_DPOP_NONCE_SECRET_FILE: required in production with AUTH_DPOP_NONCE=true (the same secret on every replica)',
      );
    }
    return randomBytes(32);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) {
    throw new Error(
      `Invalid configuration:\n  AUTH_DPOP_NONCE_SECRET_FILE: ${file} holds fewer than 32 characters`,
    );
  }
  return Buffer.from(secret);
}
