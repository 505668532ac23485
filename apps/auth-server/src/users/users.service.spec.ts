import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigService } from '@nestjs/config';
import type { AuthServerConfig } from '../config';
import { hashPassword } from './password-hash';
import { UsersService } from './users.service';

describe(UsersService.name, () => {
  const users = new UsersService(
    new ConfigService({
      usersFile: join(__dirname, '../../dev/users.json'),
      loginHashConcurrency: 2,
      loginHashQueue: 8,
    }) as ConfigService<AuthServerConfig, true>,
  );

  it.each([
    ['alice', ['user']],
    ['bob', ['user', 'admin']],
    ['carol', ['user']],
  ])('ships the dev user %s, whose password is the user name', async (username, roles) => {
    expect(await users.verifyCredentials(username, username)).toMatchObject({ username, roles });
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    expect(await users.verifyCredentials('alice', 'bob')).toBeUndefined();
    expect(await users.verifyCredentials('mallory', 'mallory')).toBeUndefined();
  });
});

describe(`${UsersService.name} in production`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-server-users-'));
  const usersIn = (file: string) =>
    new UsersService(
      new ConfigService({ usersFile: file, production: true }) as ConfigService<
        AuthServerConfig,
        true
      >,
    );

  it('refuses to start with the development users, naming USERS_FILE and the users', async () => {
    const start = usersIn(join(__dirname, '../../dev/users.json')).onModuleInit();
    await expect(start).rejects.toThrow(/USERS_FILE: .*dev\/users\.json .*\(alice, bob, carol\)/);
  });

  it('starts with users of real passwords', async () => {
    const file = join(dir, 'users.json');
    const passwordHash = await hashPassword('a real passphrase of this deployment');
    writeFileSync(
      file,
      JSON.stringify([{ username: 'alice', name: 'Alice', roles: [], passwordHash }]),
    );
    await expect(usersIn(file).onModuleInit()).resolves.toBeUndefined();
  });
});
