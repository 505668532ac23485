import { createHash, hash } from 'node:crypto';
import { runInCallContext } from '@acme/transport';
import { tokenDigest } from './token-digest';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, hash: jest.fn(actual.hash) };
});

const sha256 = (token: string) => createHash('sha256').update(token).digest('base64url');

describe('tokenDigest', () => {
  const alice = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
  const bob = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl';

  beforeEach(() => jest.mocked(hash).mockClear());

  it('is the SHA-256 of the token, base64url', () => {
    expect(tokenDigest(alice)).toBe(sha256(alice));
    expect(runInCallContext({}, () => tokenDigest(alice))).toBe(sha256(alice));
  });

  it('hashes a token once per call, however often the call asks', () => {
    const digests = runInCallContext({ authorization: `Bearer ${alice}` }, () => [
      tokenDigest(alice),
      // The same token read out of the metadata again: another string, the same value.
      tokenDigest(`${alice}x`.slice(0, -1)),
    ]);
    expect(digests).toEqual([sha256(alice), sha256(alice)]);
    expect(hash).toHaveBeenCalledTimes(1);
  });

  it('never answers another token with the digest it remembers', () => {
    const digests = runInCallContext({}, () => [
      tokenDigest(alice),
      tokenDigest(bob),
      tokenDigest(alice),
    ]);
    expect(digests).toEqual([sha256(alice), sha256(bob), sha256(alice)]);
  });

  it('remembers nothing outside a call, nor from one call to the next', () => {
    tokenDigest(alice);
    tokenDigest(alice);
    runInCallContext({}, () => tokenDigest(alice));
    runInCallContext({}, () => tokenDigest(alice));
    expect(hash).toHaveBeenCalledTimes(4);
  });
});
