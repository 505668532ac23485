/**
 * Rotates the data key of payment fields at rest: adds a new current key to
 * DATA_KEYS_FILE (old keys stay, so nothing becomes unreadable) and
 * re-encrypts every stored field with it. Restart payment afterwards so that
 * new payments use the new key too; run it again after the restart to catch
 * rows written in between. Reads the same configuration as the service.
 *
 *   npm run payment:rotate-data-key [-- --key-id <id>]
 */
import 'reflect-metadata';
import { FieldCipher, migrate, openDatabase } from '@acme/persistence';
import type { DataKeys } from '@acme/persistence';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { validatePaymentEnv } from '../config';
import { PAYMENT_MIGRATIONS } from '../migrations';
import { fieldContext } from '../payments/payments.service';

interface EncryptedRow {
  id: string;
  billing_details: string | null;
  card_fingerprint: string | null;
}

async function main(): Promise<void> {
  const env = validatePaymentEnv(process.env);
  const argument = process.argv.indexOf('--key-id');
  const keyId =
    argument > 0
      ? process.argv[argument + 1]
      : `k${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;

  const current = JSON.parse(readFileSync(env.DATA_KEYS_FILE, 'utf8')) as DataKeys;
  const oldCipher = new FieldCipher(current);
  const rotated = FieldCipher.rotate(current, keyId);
  const cipher = new FieldCipher(rotated);

  const database = await openDatabase({
    url: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    schema: env.DATABASE_SCHEMA,
  });
  try {
    await migrate(database, PAYMENT_MIGRATIONS);
    // Write the new key set first: if re-encryption stops halfway, every row is readable with it.
    writeFileSync(`${env.DATA_KEYS_FILE}.tmp`, `${JSON.stringify(rotated, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(`${env.DATA_KEYS_FILE}.tmp`, env.DATA_KEYS_FILE);

    const reencrypt = (value: string | null, id: string) =>
      value === null
        ? null
        : cipher.encrypt(oldCipher.decrypt(value, fieldContext(id)), fieldContext(id));
    const count = await database.transaction(async (tx) => {
      const rows = await tx.query<EncryptedRow>(
        'SELECT id, billing_details, card_fingerprint FROM payments WHERE billing_details IS NOT NULL OR card_fingerprint IS NOT NULL FOR UPDATE',
      );
      for (const row of rows) {
        await tx.query(
          'UPDATE payments SET billing_details = $2, card_fingerprint = $3 WHERE id = $1',
          [row.id, reencrypt(row.billing_details, row.id), reencrypt(row.card_fingerprint, row.id)],
        );
      }
      return rows.length;
    });
    console.log(
      `data key ${keyId} is current; ${count} payment(s) re-encrypted. Restart payment to encrypt new data with it.`,
    );
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
