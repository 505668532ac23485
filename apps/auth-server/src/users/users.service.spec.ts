import { join } from 'node:path';
import { ConfigService } from '@nestjs/config';
import type { AuthServerConfig } from '../config';
import { UsersService } from './users.service';

describe(UsersService.name, () => {
  const users = new UsersService(
    new ConfigService({
      usersFile: join(__dirname, '../../config/users.json'),
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
