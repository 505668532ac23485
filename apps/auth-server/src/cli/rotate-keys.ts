// `npm run keys:rotate`: adds next signing keys, published at once but signing only JWKS_MAX_AGE
// seconds later, when the current ones retire; retired keys stay published until every token they
// signed has expired. Roll the deployment right afterwards, so every replica publishes the next
// keys before any signs with them; consumers then have them in their cache by the switch.
import { loadConfig } from '../config';
import { loadSigningKeys, rotateSigningKeyFile, signingKeyState } from '../oidc/signing-keys';

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

function main(): void {
  const config = loadConfig();
  // On a fresh clone there is nothing to rotate yet: create the first keys like the server would.
  loadSigningKeys(config.signingKeysFile, { generate: !config.production });
  const { keys } = rotateSigningKeyFile(config.signingKeysFile, config.jwksMaxAge);
  for (const key of keys) {
    const state = signingKeyState(key);
    const when =
      state === 'next'
        ? ` signs from ${iso(key.activates_at ?? 0)}`
        : state === 'current'
          ? ` retires at ${iso(key.retired_at ?? 0)}`
          : '';
    process.stdout.write(`${state.padEnd(8)} ${key.alg} ${key.kid}${when}\n`);
  }
  process.stdout.write(
    `Rotated ${config.signingKeysFile}. Restart the auth server now, so that it publishes the next keys for JWKS_MAX_AGE (${config.jwksMaxAge} s) before signing with them.\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
