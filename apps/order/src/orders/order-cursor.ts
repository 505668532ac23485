/** Where a page ends: the creation time (microseconds, as PostgreSQL keeps it) and id of its last order. */
export interface OrderPosition {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`: a JavaScript Date would round away the microseconds. */
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The opaque cursor of a position: base64url of `createdAt|id`. */
export function encodeCursor({ createdAt, id }: OrderPosition): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

/**
 * The position in a cursor, or `undefined` unless it is exactly what
 * {@link encodeCursor} makes of a real timestamp and a UUID, so nothing
 * malformed reaches the query.
 */
export function decodeCursor(cursor: string): OrderPosition | undefined {
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !TIMESTAMP.test(createdAt) || !UUID.test(id ?? '')) return undefined;
  // Node's base64url decoder skips characters it does not know: only the canonical form is accepted.
  if (encodeCursor({ createdAt, id }) !== cursor) return undefined;
  // The pattern lets 2026-02-31 through; a Date that reads the same back does not.
  const milliseconds = `${createdAt.slice(0, 23)}Z`;
  const date = new Date(milliseconds);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== milliseconds) return undefined;
  return { createdAt, id };
}
