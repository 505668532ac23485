/**
 * Creates what a development run needs and must never be committed: a dev CA,
 * a certificate and key per service, OAuth client secrets, and data-encryption
 * keys, under `.dev/`. Does nothing if they exist and cover every app; `--force`
 * makes the PKI and client secrets anew (data keys are kept).
 *
 *   npm run dev:setup [-- --force]
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDevPki } from '@acme/transport/testing';

const DEV_DIR = '.dev';
const TRUST_DOMAIN = process.env['TRUST_DOMAIN'] ?? 'acme.internal';
/** Not apps, but servers the apps reach over TLS with the same CA: the broker (deploy/compose/nats.yml). */
const SERVERS = ['nats'];

/** Every app tagged `type:app` gets an identity; a generated service is picked up automatically. */
function services(): string[] {
  return readdirSync('apps')
    .filter((name) => existsSync(join('apps', name, 'project.json')))
    .filter((name) => {
      const project = JSON.parse(readFileSync(join('apps', name, 'project.json'), 'utf8')) as {
        tags?: string[];
      };
      return project.tags?.includes('type:app');
    })
    .sort();
}

/** Data-encryption keys are never regenerated: that would make stored data unreadable. */
function writeMissingDataKeys(all: readonly string[]): void {
  const dir = join(DEV_DIR, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const service of all) {
    const file = join(dir, `${service}.data-keys.json`);
    if (existsSync(file)) continue;
    const keys = { current: 'dev-1', keys: { 'dev-1': randomBytes(32).toString('base64') } };
    writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }
}

async function main(): Promise<void> {
  const all = services();
  writeMissingDataKeys(all);
  const identities = [...all, ...SERVERS];
  const missing = identities.filter(
    (service) => !existsSync(join(DEV_DIR, 'certs', `${service}.crt`)),
  );
  const force = process.argv.includes('--force');
  if (!force && missing.length === 0) return;
  // A new app joined or a reset was asked for: reissue everything under one fresh CA.
  rmSync(join(DEV_DIR, 'certs'), { recursive: true, force: true });
  rmSync(join(DEV_DIR, 'secrets'), { recursive: true, force: true });
  await writeDevPki(DEV_DIR, identities, TRUST_DOMAIN);
  console.log(
    `dev PKI written to ${DEV_DIR}/ for: ${identities.join(', ')} (trust domain ${TRUST_DOMAIN})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
