import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { addressEnv, boolEnv, fileEnv, inlineOrFile, intEnv, listEnv, parseEnv } from './env';

describe(parseEnv.name, () => {
  const schema = z.object({
    PORT: intEnv(3000, 1, 65535),
    VERBOSE: boolEnv(false),
    PEER: addressEnv('localhost:4001'),
    ORIGINS: listEnv('http://a.test, http://b.test'),
    CERT: fileEnv(__filename),
  });

  it('applies the defaults', () => {
    expect(parseEnv(schema, {})).toEqual({
      PORT: 3000,
      VERBOSE: false,
      PEER: { host: 'localhost', port: 4001 },
      ORIGINS: ['http://a.test', 'http://b.test'],
      CERT: __filename,
    });
  });

  it('parses given values', () => {
    const env = parseEnv(schema, {
      PORT: '8080',
      VERBOSE: 'true',
      PEER: '[::1]:9000',
      ORIGINS: 'http://c.test',
    });
    expect(env).toMatchObject({
      PORT: 8080,
      VERBOSE: true,
      PEER: { host: '::1', port: 9000 },
      ORIGINS: ['http://c.test'],
    });
  });

  it('names every bad key in one error', () => {
    const parse = () =>
      parseEnv(schema, {
        PORT: '70000',
        VERBOSE: 'yes',
        PEER: 'no-port',
        CERT: '/nonexistent/cert.pem',
      });
    expect(parse).toThrow(/PORT:/);
    expect(parse).toThrow(/VERBOSE:/);
    expect(parse).toThrow(/PEER: expected host:port, got "no-port"/);
    expect(parse).toThrow(/CERT: no file at \/nonexistent\/cert\.pem/);
  });
});

describe(inlineOrFile.name, () => {
  const url = z.url({ protocol: /^postgres$/ });
  let dir: string;
  const secret = (content: string) => {
    const path = join(dir, 'database-url');
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'inline-or-file-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the inline value when no file is given, and nothing when neither is', () => {
    expect(inlineOrFile('DATABASE_URL', 'postgres://db/app', undefined, url)).toBe(
      'postgres://db/app',
    );
    expect(inlineOrFile('DATABASE_URL', undefined, undefined, url)).toBeUndefined();
  });

  it('reads the file as a mounted secret is written, trailing newline and all', () => {
    const file = secret('postgres://order:s3cret@db:5432/app\n');

    expect(inlineOrFile('DATABASE_URL', undefined, file, url)).toBe(
      'postgres://order:s3cret@db:5432/app',
    );
  });

  it('refuses both at once, naming the keys', () => {
    expect(() =>
      inlineOrFile('DATABASE_URL', 'postgres://db/app', secret('postgres://db/app'), url),
    ).toThrow('DATABASE_URL_FILE: set DATABASE_URL or DATABASE_URL_FILE, not both');
  });

  it('refuses a file that does not hold a valid value, without echoing the secret', () => {
    const file = secret('mysql://order:s3cret@db/app');

    expect(() => inlineOrFile('DATABASE_URL', undefined, file, url)).toThrow(
      `DATABASE_URL_FILE: ${file} does not hold a valid DATABASE_URL`,
    );
    expect(() => inlineOrFile('DATABASE_URL', undefined, file, url)).not.toThrow(/s3cret/);
  });
});
