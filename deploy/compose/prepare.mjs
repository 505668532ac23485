// Prepares what `docker compose up` mounts, under .dev/compose/ (git-ignored):
// the dev PKI (npm run dev:setup), copies of the certificates, client secrets and data keys,
// and the secrets only the compose system uses: a Redis user and a PostgreSQL role per
// service, each with its own password (redis-users.acl and postgres-init.sql say what each
// may do), Grafana's admin password, the auth-server's signing and cookie keys, and its users:
// the development users' names and roles with generated passwords (in
// auth-server/passwords/<user>), since the auth-server runs in production mode here and refuses
// the published ones. Generated secrets are kept on later runs; certificates are copied afresh.
//
//   node deploy/compose/prepare.mjs
//
// ACME_DEV_DIR (default .dev) and ACME_SKIP_DEV_SETUP=1 let a test run it on a
// PKI of its own.
//
// Compose bind-mounts secret files with their permissions as they are on the
// host and ignores `mode`/`uid` for them, while the containers run as other
// users (node is 1000): the copies are readable by all (0644) inside a folder
// only you can enter (0700).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const DEV = process.env.ACME_DEV_DIR ?? '.dev';
const OUT = join(DEV, 'compose');
/** The services that own a database: each logs in as `<service>_service` (postgres-init.sql). */
const DATABASE_SERVICES = ['order', 'payment'];
/** The Redis users of redis-users.acl, and the file each service reads its URL from. */
const REDIS_URL_FILES = {
  gateway: (url) => writeReadable(join(OUT, 'gateway-redis-url'), url),
  'auth-server': (url) => writeReadable(join(OUT, 'auth-server/redis-url'), url),
};

const secret = () => randomBytes(32).toString('hex');

function run(script, env = {}, input = undefined) {
  const result = spawnSync(process.execPath, ['-r', '@swc-node/register', script], {
    stdio: [
      input === undefined ? 'inherit' : 'pipe',
      input === undefined ? 'inherit' : 'pipe',
      'inherit',
    ],
    env: { ...process.env, ...env },
    input,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${script} failed`);
  return result.stdout;
}

function writeReadable(file, content) {
  writeFileSync(file, content);
  chmodSync(file, 0o644);
}

/** Writes a generated secret once; later runs keep it (a new database password would lock the data out). */
function writeOnce(file, make) {
  if (!existsSync(file)) writeReadable(file, make());
}

/** A generated password, written on the first run and read back on later ones. */
function readOnce(file) {
  writeOnce(file, secret);
  return readFileSync(file, 'utf8').trim();
}

function copyReadable(fromDir, toDir, filter) {
  mkdirSync(toDir, { recursive: true });
  for (const name of readdirSync(fromDir).filter(filter)) {
    copyFileSync(join(fromDir, name), join(toDir, name));
    chmodSync(join(toDir, name), 0o644);
  }
}

if (!process.env.ACME_SKIP_DEV_SETUP) run('tools/dev-setup/dev-setup.ts');
mkdirSync(OUT, { recursive: true, mode: 0o700 });
chmodSync(OUT, 0o700);
copyReadable(join(DEV, 'certs'), join(OUT, 'certs'), (name) => /\.(crt|key)$/.test(name));
copyReadable(join(DEV, 'secrets'), join(OUT, 'clients'), (name) => name.endsWith('.client-secret'));
copyReadable(join(DEV, 'keys'), join(OUT, 'keys'), (name) => name.endsWith('.data-keys.json'));

const auth = join(OUT, 'auth-server');
mkdirSync(auth, { recursive: true });

// PostgreSQL: the admin password (the container only) and one role per service.
writeOnce(join(OUT, 'postgres-password'), secret);
for (const service of DATABASE_SERVICES) {
  const password = readOnce(join(OUT, `postgres-${service}-password`));
  writeReadable(
    join(OUT, `${service}-database-url`),
    `postgres://${service}_service:${password}@postgres:5432/acme`,
  );
}

// Redis: the committed ACL with each user's password added, as its SHA-256, and without the
// comments (Redis reads `user` lines only).
let acl = readFileSync(join(import.meta.dirname, 'redis-users.acl'), 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('user '))
  .join('\n');
for (const [user, writeUrl] of Object.entries(REDIS_URL_FILES)) {
  const password = readOnce(join(OUT, `redis-${user}-password`));
  const line = new RegExp(`^user ${user} on `, 'm');
  if (!line.test(acl)) throw new Error(`redis-users.acl has no line "user ${user} on ..."`);
  const hash = createHash('sha256').update(password).digest('hex');
  acl = acl.replace(line, `user ${user} on #${hash} `);
  writeUrl(`redis://${user}:${password}@redis:6379`);
}
writeReadable(join(OUT, 'redis-users.acl'), `${acl}\n`);

// Grafana's admin password (observability.yml), for signing in at http://localhost:3030 as admin.
writeOnce(join(OUT, 'grafana-admin-password'), secret);

writeOnce(join(auth, 'cookie-keys'), () => `${randomBytes(32).toString('base64url')}\n`);
const signingKeys = join(auth, 'signing-keys.json');
if (!existsSync(signingKeys)) {
  // The auth-server's own tool writes the keys in its format (npm run keys:rotate).
  run('apps/auth-server/src/cli/rotate-keys.ts', {
    NODE_ENV: 'development',
    SIGNING_KEYS_FILE: signingKeys,
    KEYS_DIR: auth,
  });
  chmodSync(signingKeys, 0o644);
}
// The development users with passwords of their own, readable by you only (they are not mounted).
const users = join(auth, 'users.json');
if (!existsSync(users)) {
  const devUsers = JSON.parse(readFileSync('apps/auth-server/dev/users.json', 'utf8'));
  mkdirSync(join(auth, 'passwords'), { recursive: true, mode: 0o700 });
  const composeUsers = devUsers.map(({ username, name, roles }) => {
    const file = join(auth, 'passwords', username);
    if (!existsSync(file))
      writeFileSync(file, randomBytes(12).toString('base64url'), { mode: 0o600 });
    const password = readFileSync(file, 'utf8');
    const passwordHash = run('apps/auth-server/src/cli/hash-password.ts', {}, password).trim();
    return { username, name, roles, passwordHash };
  });
  writeReadable(users, `${JSON.stringify(composeUsers, null, 2)}\n`);
}
console.log(`compose secrets ready in ${OUT}/`);
