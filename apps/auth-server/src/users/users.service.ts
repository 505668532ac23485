import { readFileSync } from 'node:fs';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { z } from 'zod';
import type { AuthServerConfig } from '../config';
import { usersWithDevPasswords } from './dev-passwords';
import { PasswordCheckQueue } from './password-check-queue';
import { isPasswordHash, UNMATCHABLE_HASH, verifyPassword } from './password-hash';

const usersFileSchema = z.array(
  z.strictObject({
    username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
    name: z.string().min(1),
    roles: z.array(z.string().min(1)),
    passwordHash: z.string().refine(isPasswordHash, 'must be scrypt$N$r$p$salt$hash'),
  }),
);

export type User = z.infer<typeof usersFileSchema>[number];

/** The users of the user store (`USERS_FILE`). Their user name is the `sub` of their tokens. */
@Injectable()
export class UsersService implements OnModuleInit {
  private readonly users: ReadonlyMap<string, User>;
  private readonly file: string;
  private readonly production: boolean;
  private readonly passwordChecks: PasswordCheckQueue;

  constructor(config: ConfigService<AuthServerConfig, true>) {
    this.passwordChecks = new PasswordCheckQueue(
      config.get('loginHashConcurrency', { infer: true }),
      config.get('loginHashQueue', { infer: true }),
    );
    const file = config.get('usersFile', { infer: true });
    this.file = file;
    this.production = config.get('production', { infer: true });
    const parsed = usersFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      throw new Error(`Invalid users file ${file}: ${z.prettifyError(parsed.error)}`);
    }
    this.users = new Map(parsed.data.map((user) => [user.username, user]));
  }

  /** In production, refuses to start while a user's password is a published development one. */
  async onModuleInit(): Promise<void> {
    if (!this.production) return;
    const found = await usersWithDevPasswords([...this.users.values()]);
    if (found.length > 0) {
      throw new Error(
        `Invalid configuration:\n  USERS_FILE: ${this.file} holds users whose password is a published development one (${found.join(', ')}); hash real passwords with apps/auth-server/src/cli/hash-password.ts`,
      );
    }
  }

  findByUsername(username: string): User | undefined {
    return this.users.get(username);
  }

  /**
   * The user when the password is right, otherwise undefined. An unknown user name costs the same
   * scrypt work as a wrong password, so timing does not reveal which names exist. Throws
   * `PasswordCheckBusyError` when too many checks are running and waiting already.
   */
  async verifyCredentials(username: string, password: string): Promise<User | undefined> {
    const user = this.users.get(username);
    const matches = await this.passwordChecks.run(() =>
      verifyPassword(password, user?.passwordHash ?? UNMATCHABLE_HASH),
    );
    return matches ? user : undefined;
  }
}
