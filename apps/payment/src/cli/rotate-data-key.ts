/**
 * Rotates the data key of payment fields at rest: adds a new current key to
 * DATA_KEYS_FILE (old keys stay, so nothing becomes unreadable) and
 * re-encrypts every stored field with it, upgrading v1 values to the v2
 * format on the way. Restart payment afterwards so that new payments use the
 * new key too; run it again with --reencrypt-only after the restart to catch
 * rows written in between, then retire the old key
 * (npm run payment:retire-data-key). Reads the same configuration as the service.
 *
 *   npm run payment:rotate-data-key [-- --key-id <id>] [-- --reencrypt-only]
 */
import 'reflect-metadata';
import { FieldCipher } from '@acme/persistence';
import { validatePaymentEnv } from '../config';
import { reencryptPayments } from '../payments/payment-fields';
import { option, readDataKeys, run, withPaymentDatabase, writeDataKeys } from './data-keys-cli';

run(async () => {
  const env = validatePaymentEnv(process.env);
  const current = readDataKeys(env.DATA_KEYS_FILE);
  const rotate = !process.argv.includes('--reencrypt-only');
  const keys = rotate
    ? FieldCipher.rotate(
        current,
        option('key-id') ?? `k${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`,
      )
    : current;
  const cipher = new FieldCipher(keys);

  await withPaymentDatabase(env, async (database) => {
    // Write the new key set first: if re-encryption stops halfway, every row is readable with it.
    if (rotate) writeDataKeys(env.DATA_KEYS_FILE, keys);
    const count = await reencryptPayments(database, cipher);
    console.log(
      `data key ${keys.current} is current; ${count} payment(s) re-encrypted.` +
        (rotate ? ' Restart payment to encrypt new data with it.' : ''),
    );
  });
});
