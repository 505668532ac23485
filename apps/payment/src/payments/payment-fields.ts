import { FieldCipher } from '@acme/persistence';
import type { DataKeys, FieldRef, OpenDatabase } from '@acme/persistence';

/**
 * The columns of `payments` stored encrypted; each value is bound to its column and row
 * (FieldCipher's v2 format; migration 0001 describes v1, which the rotate command upgrades).
 */
export const ENCRYPTED_COLUMNS = ['billing_details', 'card_fingerprint'] as const;
export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

export const paymentField = (column: EncryptedColumn, paymentId: string): FieldRef => ({
  table: 'payments',
  column,
  rowId: paymentId,
});

/** What v1 values were bound to: the row only, the same for both columns. */
const v1Context = (paymentId: string) => `payment:${paymentId}`;

type EncryptedRow = { id: string } & Record<EncryptedColumn, string | null>;

/**
 * Re-encrypts every stored field that is not yet under the current key and
 * format (v1 values included), in one transaction. Safe to run again: rows
 * already done are skipped. Returns the number of payments changed.
 */
export async function reencryptPayments(
  database: OpenDatabase,
  cipher: FieldCipher,
): Promise<number> {
  return database.transaction(async (tx) => {
    const rows = await tx.query<EncryptedRow>(
      `SELECT id, ${ENCRYPTED_COLUMNS.join(', ')} FROM payments
       WHERE ${ENCRYPTED_COLUMNS.map((column) => `NOT starts_with(${column}, $1)`).join(' OR ')}
       FOR UPDATE`,
      [cipher.currentPrefix],
    );
    for (const row of rows) {
      const values = ENCRYPTED_COLUMNS.map((column) => {
        const stored = row[column];
        return stored === null
          ? null
          : cipher.reencrypt(stored, paymentField(column, row.id), v1Context(row.id));
      });
      await tx.query(
        `UPDATE payments SET ${ENCRYPTED_COLUMNS.map((column, i) => `${column} = $${i + 2}`).join(', ')} WHERE id = $1`,
        [row.id, ...values],
      );
    }
    return rows.length;
  });
}

/** How many payments still hold a value encrypted with `keyId`. */
export async function paymentsUsingKey(database: OpenDatabase, keyId: string): Promise<number> {
  const [{ count }] = await database.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM payments
     WHERE ${ENCRYPTED_COLUMNS.map((column) => `split_part(${column}, '.', 2) = $1`).join(' OR ')}`,
    [keyId],
  );
  return count;
}

/**
 * The key set without `keyId`, once no stored value uses it; refuses (naming
 * the rotate step) while any does, since dropping it would make them unreadable.
 */
export async function retireDataKey(
  database: OpenDatabase,
  dataKeys: DataKeys,
  keyId: string,
): Promise<DataKeys> {
  const retired = FieldCipher.retire(dataKeys, keyId);
  const inUse = await paymentsUsingKey(database, keyId);
  if (inUse > 0) {
    throw new Error(
      `${inUse} payment(s) still use data key ${keyId}: run npm run payment:rotate-data-key (after restarting payment with the current key) first`,
    );
  }
  return retired;
}
