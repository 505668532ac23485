import { verifyPassword } from './password-hash';

/**
 * The passwords of the development users in `apps/auth-server/dev/users.json`, which the README
 * publishes: each one's user name. dev-passwords.spec.ts fails when that file gains a user this
 * list misses.
 */
export const DEV_PASSWORDS: readonly string[] = ['alice', 'bob', 'carol'];

/**
 * The users of a production users file whose password is a published development one: any of
 * {@link DEV_PASSWORDS}, or their own user name. Verifying the passwords, rather than comparing
 * with the hashes of the dev file, also catches a dev password hashed again with a fresh salt, and
 * needs no copy of the dev file in the image. It costs a few scrypt checks per user at start-up.
 */
export async function usersWithDevPasswords(
  users: readonly { username: string; passwordHash: string }[],
): Promise<string[]> {
  const found = await Promise.all(
    users.map(async ({ username, passwordHash }) => {
      for (const password of new Set([...DEV_PASSWORDS, username])) {
        if (await verifyPassword(password, passwordHash)) return username;
      }
      return undefined;
    }),
  );
  return found.filter((username) => username !== undefined);
}
