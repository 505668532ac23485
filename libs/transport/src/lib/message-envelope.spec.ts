import { isMessageEnvelope } from './message-envelope';

const MAX_META_VALUE = 16 * 1024;

describe(isMessageEnvelope.name, () => {
  it('accepts meta with authorization and request id beside the data', () => {
    expect(
      isMessageEnvelope({
        meta: { authorization: 'Bearer a.b.c', requestId: 'req-1' },
        data: { id: 1 },
      }),
    ).toBe(true);
  });

  it('accepts the names of the client networks the edge saw', () => {
    expect(isMessageEnvelope({ meta: { clientNetworks: ['admin', 'office-2'] }, data: {} })).toBe(
      true,
    );
  });

  it('accepts empty meta and any data, null included (a caller without a token, a message without payload)', () => {
    expect(isMessageEnvelope({ meta: {}, data: null })).toBe(true);
  });

  it('accepts a meta value of exactly the maximum length', () => {
    expect(
      isMessageEnvelope({ meta: { authorization: 'x'.repeat(MAX_META_VALUE) }, data: {} }),
    ).toBe(true);
  });

  it.each([
    ['a bare payload', { id: 1 }],
    ['a string', 'hello'],
    ['null', null],
    ['a payload without meta', { data: { id: 1 } }],
    ['meta without data', { meta: {} }],
    ['null meta', { meta: null, data: {} }],
    ['string meta', { meta: 'Bearer a.b.c', data: {} }],
    ['a non-string authorization', { meta: { authorization: ['Bearer a.b.c'] }, data: {} }],
    ['a numeric request id', { meta: { requestId: 42 }, data: {} }],
    [
      'an oversized authorization',
      { meta: { authorization: 'x'.repeat(MAX_META_VALUE + 1) }, data: {} },
    ],
    ['client networks that are not a list', { meta: { clientNetworks: 'admin' }, data: {} }],
    [
      'a client network that is not a list name',
      { meta: { clientNetworks: ['Admin!'] }, data: {} },
    ],
    [
      'more than 16 client networks',
      { meta: { clientNetworks: Array.from({ length: 17 }, (_, i) => `n${i}`) }, data: {} },
    ],
    ['an oversized request id', { meta: { requestId: 'x'.repeat(MAX_META_VALUE + 1) }, data: {} }],
  ])('rejects %s', (_case, value) => {
    expect(isMessageEnvelope(value)).toBe(false);
  });
});
