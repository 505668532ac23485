import { TestIssuer } from '@acme/auth/testing';
import type { Order } from '@acme/contracts';
import { FieldCipher } from '@acme/persistence';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { request } from './support/http';
import { AUDIENCE, CLIENT_SECRETS, POSTGRES_URL, SecureSystem } from './support/system';

const WORKSPACE = join(__dirname, '../../..');

interface PaymentRow {
  id: string;
  billing_details: string;
  card_fingerprint: string;
}

describe('payment data at rest', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  let db: Client;

  const paymentRow = async (paymentId: string) =>
    (
      await db.query<PaymentRow>(
        `SELECT id, billing_details, card_fingerprint FROM "${system.schema('payment')}".payments WHERE id = $1`,
        [paymentId],
      )
    ).rows[0];

  const cli = (command: string, ...args: string[]) =>
    spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', `apps/payment/src/cli/${command}.ts`, ...args],
      {
        cwd: WORKSPACE,
        env: { PATH: process.env['PATH'] ?? '', ...system.envOf('payment') },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer, { database: 'postgres' });
    await system.start();
    db = new Client({ connectionString: POSTGRES_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await system?.stop();
    await issuer?.stop();
  });

  it('stores billing details and the card fingerprint encrypted, rotates the key, and still reads old data', async () => {
    const alice = issuer.userToken('alice', { scope: 'orders:read orders:write' });
    const order = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: alice,
      body: { items: [{ sku: 'book-1', quantity: 1 }] },
    });
    const billing = { name: 'Alice Liddell', address: '1 Rabbit Hole, Oxford' };
    const paid = await request<Order>(
      system.gatewayUrl,
      'POST',
      `/api/orders/${order.body.id}/pay`,
      {
        token: alice,
        body: { billing, cardToken: 'tok_visa4242abcdef' },
      },
    );
    expect(paid.status).toBe(200);
    expect(JSON.stringify(paid.body)).not.toContain('Rabbit');
    const paymentId = paid.body.paymentId as string;

    const stored = await paymentRow(paymentId);
    expect(stored.billing_details).toMatch(/^v2\.e2e-1\./);
    expect(stored.card_fingerprint).toMatch(/^v2\.e2e-1\./);
    expect(JSON.stringify(stored)).not.toMatch(/Alice|Rabbit|tok_visa/);

    const rotation = cli('rotate-data-key', '--key-id', 'e2e-2');
    expect(rotation.stderr).toBe('');
    expect(rotation.stdout).toContain('data key e2e-2 is current');

    const rotated = await paymentRow(paymentId);
    expect(rotated.billing_details).toMatch(/^v2\.e2e-2\./);
    const keysFile = system.envOf('payment')['DATA_KEYS_FILE'];
    const cipher = FieldCipher.fromFile(keysFile);
    const field = { table: 'payments', column: 'billing_details', rowId: paymentId };
    expect(JSON.parse(cipher.decrypt(rotated.billing_details, field))).toEqual(billing);

    // A value written before the rotation (old key) still decrypts with the rotated key set.
    expect(JSON.parse(cipher.decrypt(stored.billing_details, field))).toEqual(billing);
    expect(system.logs()).not.toContain('Rabbit');

    // Once nothing uses it, the old key is dropped: the old value no longer decrypts.
    const retire = cli('retire-data-key', '--key-id', 'e2e-1');
    expect(retire.stderr).toBe('');
    expect(retire.stdout).toContain('data key e2e-1 retired');
    expect(() => FieldCipher.fromFile(keysFile).decrypt(stored.billing_details, field)).toThrow(
      /unknown data key e2e-1/,
    );
  });

  it('refuses a card number in place of a card token', async () => {
    const alice = issuer.userToken('alice', { scope: 'orders:read orders:write' });
    const order = await request<Order>(system.gatewayUrl, 'POST', '/api/orders', {
      token: alice,
      body: { items: [{ sku: 'book-1', quantity: 1 }] },
    });
    const response = await request(system.gatewayUrl, 'POST', `/api/orders/${order.body.id}/pay`, {
      token: alice,
      body: { cardToken: '4242424242424242' },
    });
    expect(response.status).toBe(400);
    expect(system.logs()).not.toContain('4242424242424242');
  });
});
