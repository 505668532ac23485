// `npm run keys:rotate`: adds new current signing keys and keeps the previous ones published until
// every token they signed has expired. Restart the auth server (roll the deployment) afterwards to
// sign with the new keys; resource servers find the new `kid` in the JWKS by themselves.
import { loadConfig } from '../config';
import { loadSigningKeys, rotateSigningKeyFile } from '../oidc/signing-keys';

function main(): void {
  const config = loadConfig();
  // On a fresh clone there is nothing to rotate yet: create the first keys like the server would.
  loadSigningKeys(config.signingKeysFile, { generate: !config.production });
  const { keys } = rotateSigningKeyFile(config.signingKeysFile);
  for (const key of keys) {
    const state = key.retired_at === undefined ? 'current' : 'previous';
    process.stdout.write(`${state.padEnd(8)} ${key.alg} ${key.kid}\n`);
  }
  process.stdout.write(
    `Rotated ${config.signingKeysFile}. Restart the auth server to use the new keys.\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
