import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_PASSWORDS, usersWithDevPasswords } from './dev-passwords';
import { hashPassword } from './password-hash';

describe(usersWithDevPasswords.name, () => {
  const devUsers = JSON.parse(readFileSync(join(__dirname, '../../dev/users.json'), 'utf8')) as {
    username: string;
    passwordHash: string;
  }[];

  it('finds every user of the development users file', async () => {
    expect(await usersWithDevPasswords(devUsers)).toEqual(devUsers.map((user) => user.username));
  });

  it('lists the password of every development user (each one is the user name)', () => {
    expect([...DEV_PASSWORDS].sort()).toEqual(devUsers.map((user) => user.username).sort());
  });

  it('finds a development password hashed again under another name, and a user name as password', async () => {
    const users = [
      { username: 'admin', passwordHash: await hashPassword('bob') },
      { username: 'dave', passwordHash: await hashPassword('dave') },
      { username: 'erin', passwordHash: await hashPassword('correct horse battery staple') },
    ];
    expect(await usersWithDevPasswords(users)).toEqual(['admin', 'dave']);
  });
});
