import { hashPassword, isPasswordHash, UNMATCHABLE_HASH, verifyPassword } from './password-hash';

describe('password hashing', () => {
  let stored: string;

  beforeAll(async () => {
    stored = await hashPassword('correct horse');
  });

  it('stores scrypt with its cost and a random salt, never the password', async () => {
    expect(stored).toMatch(/^scrypt\$32768\$8\$3\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored).not.toContain('correct horse');
    expect(await hashPassword('correct horse')).not.toBe(stored);
  });

  it('accepts the right password only', async () => {
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horse ', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('matches no password against the hash used for unknown users', async () => {
    expect(isPasswordHash(UNMATCHABLE_HASH)).toBe(true);
    expect(await verifyPassword('', UNMATCHABLE_HASH)).toBe(false);
  });

  it('refuses malformed hashes and costs beyond the memory limit', async () => {
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    const tooCostly = stored.replace('$32768$', `$${2 ** 24}$`);
    expect(isPasswordHash(tooCostly)).toBe(true);
    expect(await verifyPassword('correct horse', tooCostly)).toBe(false);
  });
});
