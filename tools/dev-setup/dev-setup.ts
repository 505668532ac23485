/**
 * Creates what a development run needs and must never be committed: a dev CA,
 * a certificate and key per service, and OAuth client secrets, under `.dev/`.
 * Does nothing if they exist and cover every app; `--force` makes them anew.
 *
 *   npm run dev:setup [-- --force]
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDevPki } from '@acme/transport/testing';

const DEV_DIR = '.dev';
const TRUST_DOMAIN = process.env['TRUST_DOMAIN'] ?? 'acme.internal';

/** Every app tagged `type:app` gets an identity; a generated service is picked up automatically. */
function services(): string[] {
  return readdirSync('apps')
    .filter((name) => existsSync(join('apps', name, 'project.json')))
    .filter((name) => {
      const project = JSON.parse(readFileSync(join('apps', name, 'project.json'), 'utf8')) as { tags?: string[] };
      return project.tags?.includes('type:app');
    })
    .sort();
}

async function main(): Promise<void> {
  const all = services();
  const missing = all.filter((service) => !existsSync(join(DEV_DIR, 'certs', `${service}.crt`)));
  const force = process.argv.includes('--force');
  if (!force && missing.length === 0) return;
  // A new app joined or a reset was asked for: reissue everything under one fresh CA.
  rmSync(join(DEV_DIR, 'certs'), { recursive: true, force: true });
  rmSync(join(DEV_DIR, 'secrets'), { recursive: true, force: true });
  await writeDevPki(DEV_DIR, all, TRUST_DOMAIN);
  console.log(`dev PKI written to ${DEV_DIR}/ for: ${all.join(', ')} (trust domain ${TRUST_DOMAIN})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
