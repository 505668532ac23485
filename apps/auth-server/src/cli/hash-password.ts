// Prints the scrypt hash of the password read from stdin, for the `passwordHash` of users.json:
//   printf %s 'new password' | node -r @swc-node/register apps/auth-server/src/cli/hash-password.ts
// The password comes from stdin rather than an argument so it stays out of shell history and `ps`.
import { text } from 'node:stream/consumers';
import { hashPassword } from '../users/password-hash';

async function main(): Promise<void> {
  const password = (await text(process.stdin)).replace(/\r?\n$/, '');
  if (!password) throw new Error('Pipe the password on stdin.');
  process.stdout.write(`${await hashPassword(password)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
