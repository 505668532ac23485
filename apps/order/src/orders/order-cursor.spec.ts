import { decodeCursor, encodeCursor } from './order-cursor';

describe('order cursor', () => {
  const position = {
    createdAt: '2026-12-03T01:02:03.456789Z',
    id: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  };

  it('decodes what it encodes, microseconds included', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['empty', ''],
    ['not base64url', '!!!!'],
    ['base64url of anything else', Buffer.from('hello').toString('base64url')],
    ['a timestamp without microseconds', encode('2026-12-03T01:02:03.456Z', position.id)],
    ['an impossible date', encode('2026-02-31T01:02:03.456789Z', position.id)],
    ['an id that is no UUID', encode(position.createdAt, "1' OR '1'='1")],
    ['an extra field', encode(position.createdAt, `${position.id}|x`)],
    ['a cursor with characters base64url decoding would skip', `${encodeCursor(position)}.`],
  ])('refuses %s', (_case, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

function encode(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}
