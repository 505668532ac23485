import { ConflictException } from '@nestjs/common';
import { ORDER_PATTERNS } from '@acme/contracts';
import type { ChargePaymentDto } from '@acme/contracts';
import { FieldCipher } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { openEmbeddedTestDatabase } from '@acme/persistence/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { PAYMENT_MIGRATIONS } from '../migrations';
import { paymentField } from './payment-fields';
import { PaymentsService } from './payments.service';

interface StoredPayment {
  id: string;
  billing_details: string | null;
  card_fingerprint: string | null;
}

describe(PaymentsService.name, () => {
  const cipher = new FieldCipher({
    current: 'k1',
    keys: { k1: randomBytes(32).toString('base64') },
  });
  let database: OpenDatabase;
  let payments: PaymentsService;

  beforeAll(async () => {
    database = await openEmbeddedTestDatabase('payments', PAYMENT_MIGRATIONS);
    payments = new PaymentsService(database, cipher);
  }, 60_000); // PGlite compiles its WebAssembly first: seconds on a busy machine

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(() => database.exec('DELETE FROM payments; DELETE FROM outbox'));

  const charge = (overrides: Partial<ChargePaymentDto> = {}): ChargePaymentDto => ({
    orderId: randomUUID(),
    payerId: 'alice',
    amount: 2999,
    currency: 'EUR',
    ...overrides,
  });
  const stored = () =>
    database.query<StoredPayment>('SELECT id, billing_details, card_fingerprint FROM payments');
  const events = () =>
    database.query<{ topic: string; payload: unknown }>('SELECT topic, payload FROM outbox');

  it('records a successful payment and its completion event together', async () => {
    const request = charge();

    const { payment, created } = await payments.charge(request);

    expect(created).toBe(true);
    expect(payment).toMatchObject({ ...request, status: 'SUCCEEDED' });
    expect(await events()).toEqual([
      {
        topic: ORDER_PATTERNS.paymentCompleted,
        payload: { orderId: request.orderId, paymentId: payment.id },
      },
    ]);
  });

  it('stores billing details and the card only encrypted, bound to their column and row', async () => {
    const billing = { name: 'Alice Example', address: '1 Main Street' };

    const { payment } = await payments.charge(charge({ billing, cardToken: 'tok_abcdefgh1234' }));

    const [row] = await stored();
    expect(row.billing_details).toMatch(/^v2\.k1\./);
    expect(row.billing_details).not.toContain('Alice');
    expect(
      JSON.parse(
        cipher.decrypt(row.billing_details ?? '', paymentField('billing_details', payment.id)),
      ),
    ).toEqual(billing);
    // A fingerprint recognises the card; nothing stored could charge it.
    const card = cipher.decrypt(
      row.card_fingerprint ?? '',
      paymentField('card_fingerprint', payment.id),
    );
    expect(card).not.toContain('tok_');
    expect(() =>
      cipher.decrypt(row.card_fingerprint ?? '', paymentField('billing_details', payment.id)),
    ).toThrow();
  });

  it('charges an order once, however often and however concurrently it is asked', async () => {
    const request = charge();

    const results = await Promise.all(Array.from({ length: 5 }, () => payments.charge(request)));

    expect(new Set(results.map(({ payment }) => payment.id)).size).toBe(1);
    expect(results.filter(({ created }) => created)).toHaveLength(1);
    expect(await stored()).toHaveLength(1);
    expect(await events()).toHaveLength(1);
  });

  it.each([
    ['amount', { amount: 1 }],
    ['payer', { payerId: 'mallory' }],
  ])('refuses to charge a paid order again with another %s', async (_term, change) => {
    const request = charge();
    await payments.charge(request);

    await expect(payments.charge({ ...request, ...change })).rejects.toThrow(
      new ConflictException('order was already charged with different terms'),
    );
    expect(await stored()).toHaveLength(1);
    expect(await events()).toHaveLength(1);
  });
});
