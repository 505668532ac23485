import { join } from 'node:path';
import { randomSecret, readOrCreateSecretFile } from './secret-files';

/**
 * The keys that sign oidc-provider's cookies, newest first: `COOKIE_KEYS` when set (always in
 * production), else a key generated once into `KEYS_DIR` so sessions survive a restart in development.
 */
export function loadCookieKeys(configured: string[] | undefined, keysDir: string): string[] {
  if (configured) return configured;
  const file = join(keysDir, 'cookie-keys');
  return readOrCreateSecretFile(file, () => `${randomSecret()}\n`)
    .split(/\s+/)
    .filter(Boolean);
}
