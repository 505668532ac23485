/**
 * Retires an old data key: removes it from DATA_KEYS_FILE once no payment
 * field is encrypted with it, and refuses while any is (run
 * payment:rotate-data-key first, after payment was restarted with the new key
 * set: a replica still running with the old current key would go on writing
 * with it). Reads the same configuration as the service.
 *
 *   npm run payment:retire-data-key -- --key-id <id>
 */
import 'reflect-metadata';
import { validatePaymentEnv } from '../config';
import { retireDataKey } from '../payments/payment-fields';
import { option, readDataKeys, run, withPaymentDatabase, writeDataKeys } from './data-keys-cli';

run(async () => {
  const env = validatePaymentEnv(process.env);
  const keyId = option('key-id');
  if (!keyId) throw new Error('usage: npm run payment:retire-data-key -- --key-id <id>');
  await withPaymentDatabase(env, async (database) => {
    writeDataKeys(
      env.DATA_KEYS_FILE,
      await retireDataKey(database, readDataKeys(env.DATA_KEYS_FILE), keyId),
    );
  });
  console.log(`data key ${keyId} retired: no payment uses it.`);
});
