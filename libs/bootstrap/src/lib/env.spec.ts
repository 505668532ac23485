import { z } from 'zod';
import { addressEnv, boolEnv, fileEnv, intEnv, listEnv, parseEnv } from './env';

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
