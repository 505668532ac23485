import { FieldCipher, migrate, openDatabase } from '@acme/persistence';
import type { DataKeys, OpenDatabase } from '@acme/persistence';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { PAYMENT_MIGRATIONS } from '../migrations';
import { paymentField, paymentsUsingKey, reencryptPayments, retireDataKey } from './payment-fields';

const POSTGRES_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Row {
  billing_details: string | null;
  card_fingerprint: string | null;
}

describe('payment fields at rest (PostgreSQL)', () => {
  const schema = `payment_fields_${process.pid}_${Date.now()}`;
  const k1: DataKeys = { current: 'k1', keys: { k1: randomBytes(32).toString('base64') } };
  let database: OpenDatabase;

  const insert = async (id: string, billing: string | null, card: string | null) =>
    database.query(
      `INSERT INTO payments (id, order_id, payer_id, amount, currency, status, billing_details, card_fingerprint)
       VALUES ($1, $2, 'alice', 100, 'EUR', 'SUCCEEDED', $3, $4)`,
      [id, randomUUID(), billing, card],
    );
  const row = async (id: string) =>
    (
      await database.query<Row>(
        'SELECT billing_details, card_fingerprint FROM payments WHERE id = $1',
        [id],
      )
    )[0];
  /** A value as the v1 format wrote it: bound to `payment:<id>` only, in either column. */
  const v1 = (plaintext: string, id: string) => {
    const iv = randomBytes(12);
    const gcm = createCipheriv('aes-256-gcm', Buffer.from(k1.keys['k1'], 'base64'), iv);
    gcm.setAAD(Buffer.from(`payment:${id}`));
    const body = Buffer.concat([gcm.update(plaintext, 'utf8'), gcm.final()]);
    return ['v1', 'k1', iv, gcm.getAuthTag(), body]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  };

  beforeAll(async () => {
    database = await openDatabase({ url: POSTGRES_URL, dataDir: '', schema });
    await migrate(database, PAYMENT_MIGRATIONS);
  });

  afterAll(async () => {
    await database?.exec(`DROP SCHEMA "${schema}" CASCADE`);
    await database?.close();
  });

  it('refuses a value swapped between the columns of a row, or between rows', async () => {
    const cipher = new FieldCipher(k1);
    const [a, b] = [randomUUID(), randomUUID()];
    await insert(
      a,
      cipher.encrypt('{"name":"Alice"}', paymentField('billing_details', a)),
      cipher.encrypt('fingerprint-a', paymentField('card_fingerprint', a)),
    );
    await insert(b, cipher.encrypt('{"name":"Bob"}', paymentField('billing_details', b)), null);
    // An attacker with write access to the table moves ciphertexts around.
    await database.query(
      'UPDATE payments SET billing_details = card_fingerprint, card_fingerprint = billing_details WHERE id = $1',
      [a],
    );
    await database.query(
      'UPDATE payments SET billing_details = (SELECT billing_details FROM payments WHERE id = $1) WHERE id = $2',
      [b, a],
    );
    const swapped = await row(a);
    expect(() =>
      cipher.decrypt(swapped.card_fingerprint as string, paymentField('card_fingerprint', a)),
    ).toThrow();
    expect(() =>
      cipher.decrypt(swapped.billing_details as string, paymentField('billing_details', a)),
    ).toThrow();
    await database.query('DELETE FROM payments');
  });

  it('retires an old key only once rotation has re-encrypted every value, v1 ones included', async () => {
    const before = new FieldCipher(k1);
    const [v2Row, v1Row] = [randomUUID(), randomUUID()];
    await insert(
      v2Row,
      before.encrypt('{"name":"Alice"}', paymentField('billing_details', v2Row)),
      null,
    );
    await insert(v1Row, v1('{"name":"Bob"}', v1Row), v1('fingerprint-b', v1Row));
    const rotated = FieldCipher.rotate(k1, 'k2');

    expect(await paymentsUsingKey(database, 'k1')).toBe(2);
    await expect(retireDataKey(database, rotated, 'k1')).rejects.toThrow(
      /2 payment\(s\) still use data key k1: run npm run payment:rotate-data-key/,
    );

    const cipher = new FieldCipher(rotated);
    expect(await reencryptPayments(database, cipher)).toBe(2);
    expect(await reencryptPayments(database, cipher)).toBe(0);
    expect(await paymentsUsingKey(database, 'k1')).toBe(0);

    const after = new FieldCipher(await retireDataKey(database, rotated, 'k1'));
    const upgraded = await row(v1Row);
    expect(upgraded.billing_details).toMatch(/^v2\.k2\./);
    expect(
      after.decrypt(upgraded.billing_details as string, paymentField('billing_details', v1Row)),
    ).toBe('{"name":"Bob"}');
    expect(
      after.decrypt(upgraded.card_fingerprint as string, paymentField('card_fingerprint', v1Row)),
    ).toBe('fingerprint-b');
    expect(
      after.decrypt(
        (await row(v2Row)).billing_details as string,
        paymentField('billing_details', v2Row),
      ),
    ).toBe('{"name":"Alice"}');
  });
});
