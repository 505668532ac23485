import { TestIssuer } from '@acme/auth/testing';
import { ORDER_PATTERNS, PAYMENT_PATTERNS } from '@acme/contracts';
import type { ChargePaymentDto, PaymentCompletedDto } from '@acme/contracts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { createCertificateAuthority, issueServiceCertificate } from '@acme/transport/testing';
import { rawCall } from './support/rpc';
import { AUDIENCE, CLIENT_SECRETS, SecureSystem, TRUST_DOMAIN } from './support/system';

/**
 * Attacks on the order and payment ports themselves, bypassing the gateway:
 * only a peer with a certificate from our CA, naming an allowed service, and
 * carrying a valid token for the right principal gets an answer.
 */
describe('mutual TLS between services', () => {
  let issuer: TestIssuer;
  let system: SecureSystem;
  /** alice's tokens as payment and order receive them, after the exchange of each hop. */
  let aliceForPayment: string;
  let aliceForOrder: string;

  const identity = (service: string, servername: string): ConnectionOptions => ({
    ca: readFileSync(system.file('ca.crt')),
    cert: readFileSync(system.file(`${service}.crt`)),
    key: readFileSync(system.file(`${service}.key`)),
    servername,
  });

  const charge = (): ChargePaymentDto => ({
    orderId: randomUUID(),
    payerId: 'alice',
    amount: 1000,
    currency: 'EUR',
  });

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE, clients: CLIENT_SECRETS });
    system = new SecureSystem(issuer.issuer);
    await system.start();
    aliceForPayment = issuer.userToken('alice', {
      roles: ['user'],
      scope: 'orders:read orders:write',
      audience: 'urn:acme:payment',
    });
    aliceForOrder = issuer.userToken('alice', {
      roles: ['user'],
      scope: 'orders:read orders:write',
      audience: 'urn:acme:order',
    });
  });

  afterAll(async () => {
    await system?.stop();
    await issuer?.stop();
  });

  it('answers the order service calling payment.charge with the payer token (the control case)', async () => {
    const payment = await rawCall(
      system.port('payment'),
      identity('order', 'payment'),
      PAYMENT_PATTERNS.charge,
      charge(),
      {
        token: aliceForPayment,
      },
    );
    expect(payment).toMatchObject({ payerId: 'alice', amount: 1000, status: 'SUCCEEDED' });
  });

  describe('refused during the TLS handshake', () => {
    it('refuses a client without a certificate', async () => {
      const { cert, key, ...noCertificate } = identity('order', 'payment');
      await expect(
        rawCall(system.port('payment'), noCertificate, PAYMENT_PATTERNS.charge, charge(), {
          token: aliceForPayment,
        }),
      ).rejects.toThrow();
    });

    it('refuses a certificate from another CA, even one naming the order service', async () => {
      const foreignCa = await createCertificateAuthority('attacker CA');
      const forged = await issueServiceCertificate(foreignCa, 'order', TRUST_DOMAIN);
      const options = { ...identity('order', 'payment'), cert: forged.certPem, key: forged.keyPem };
      await expect(
        rawCall(system.port('payment'), options, PAYMENT_PATTERNS.charge, charge(), {
          token: aliceForPayment,
        }),
      ).rejects.toThrow();
    });

    it('refuses an expired certificate issued by our own CA', async () => {
      const expired = await issueServiceCertificate(system.ca, 'order', TRUST_DOMAIN, {
        notBefore: new Date(Date.now() - 2 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      const options = {
        ...identity('order', 'payment'),
        cert: expired.certPem,
        key: expired.keyPem,
      };
      await expect(
        rawCall(system.port('payment'), options, PAYMENT_PATTERNS.charge, charge(), {
          token: aliceForPayment,
        }),
      ).rejects.toThrow();
    });

    it('refuses TLS 1.2', async () => {
      const options = { ...identity('order', 'payment'), maxVersion: 'TLSv1.2' as const };
      await expect(
        rawCall(system.port('payment'), options, PAYMENT_PATTERNS.charge, charge(), {
          token: aliceForPayment,
        }),
      ).rejects.toThrow();
    });

    it('lets the client refuse a server whose certificate names another service', async () => {
      await expect(
        rawCall(
          system.port('payment'),
          identity('gateway', 'order'),
          ORDER_PATTERNS.list,
          {},
          { token: aliceForPayment },
        ),
      ).rejects.toThrow();
    });

    it('closes a plaintext connection without answering', async () => {
      const socket = connect(system.port('order'), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      const frame = JSON.stringify({
        pattern: ORDER_PATTERNS.listAll,
        data: { meta: {}, data: {} },
        id: '1',
      });
      socket.write(`${frame.length}#${frame}`);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(received).not.toContain('"response"');
    });
  });

  describe('refused by the handler rules', () => {
    it("lists every order only for an admin the gateway saw in the admin ranges, as the gateway's own rule", async () => {
      const admin = issuer.userToken('bob', {
        roles: ['user', 'admin'],
        scope: 'admin:read',
        audience: 'urn:acme:order',
      });
      const listAll = (clientNetworks?: string[]) =>
        rawCall(
          system.port('order'),
          identity('gateway', 'order'),
          ORDER_PATTERNS.listAll,
          {},
          {
            token: admin,
            clientNetworks,
          },
        );

      await expect(listAll()).rejects.toMatchObject({ status: 403 });
      await expect(listAll(['admin'])).resolves.toMatchObject({ items: expect.any(Array) });
    });

    it("refuses the gateway's certificate calling payment.charge directly (403)", async () => {
      await expect(
        rawCall(
          system.port('payment'),
          identity('gateway', 'payment'),
          PAYMENT_PATTERNS.charge,
          charge(),
          {
            token: aliceForPayment,
          },
        ),
      ).rejects.toMatchObject({ status: 403, error: 'insufficient_scope' });
    });

    it("refuses the order service charging someone other than the token's user (403)", async () => {
      const forCarol = { ...charge(), payerId: 'carol' };
      await expect(
        rawCall(
          system.port('payment'),
          identity('order', 'payment'),
          PAYMENT_PATTERNS.charge,
          forCarol,
          {
            token: aliceForPayment,
          },
        ),
      ).rejects.toMatchObject({ status: 403 });
    });

    it('refuses the order service without a token (401)', async () => {
      await expect(
        rawCall(
          system.port('payment'),
          identity('order', 'payment'),
          PAYMENT_PATTERNS.charge,
          charge(),
        ),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('refuses a payment-completed event from the gateway, even with a payment service token (403)', async () => {
      const event: PaymentCompletedDto = { orderId: randomUUID(), paymentId: randomUUID() };
      await expect(
        rawCall(
          system.port('order'),
          identity('gateway', 'order'),
          ORDER_PATTERNS.paymentCompleted,
          event,
          {
            token: issuer.serviceToken('payment', 'orders:settle', 'urn:acme:order'),
          },
        ),
      ).rejects.toMatchObject({ status: 403 });
    });

    it("refuses a payment-completed event from payment's certificate with a user's token (403)", async () => {
      const event: PaymentCompletedDto = { orderId: randomUUID(), paymentId: randomUUID() };
      const userWithScope = issuer.userToken('alice', {
        roles: ['user'],
        scope: 'orders:settle',
        audience: 'urn:acme:order',
      });
      await expect(
        rawCall(
          system.port('order'),
          identity('payment', 'order'),
          ORDER_PATTERNS.paymentCompleted,
          event,
          {
            token: userWithScope,
          },
        ),
      ).rejects.toMatchObject({ status: 403 });
    });
  });

  describe('malformed and oversized messages', () => {
    it('answers a payload that is not an envelope with 400', async () => {
      await expect(
        rawCall(
          system.port('order'),
          identity('gateway', 'order'),
          ORDER_PATTERNS.list,
          { token: aliceForOrder },
          {
            envelope: false,
          },
        ),
      ).rejects.toMatchObject({ status: 400, message: 'malformed message envelope' });
    });

    it('answers a payload with a __proto__ key with 400, from an allowed peer with a valid token', async () => {
      const poisoned = JSON.parse(
        `{"orderId":"${randomUUID()}","payerId":"alice","amount":1000,"currency":"EUR","__proto__":{"status":"SUCCEEDED"}}`,
      ) as unknown;
      await expect(
        rawCall(
          system.port('payment'),
          identity('order', 'payment'),
          PAYMENT_PATTERNS.charge,
          poisoned,
          {
            token: aliceForPayment,
          },
        ),
      ).rejects.toMatchObject({
        status: 400,
        message: 'a "__proto__" key is not accepted anywhere in the input',
      });
    });

    it('drops the connection on a frame over 1 MiB, and keeps serving others', async () => {
      const huge = { items: [{ sku: 'x'.repeat(2 * 1024 * 1024), quantity: 1 }] };
      await expect(
        rawCall(system.port('order'), identity('gateway', 'order'), ORDER_PATTERNS.create, huge, {
          token: aliceForOrder,
        }),
      ).rejects.toThrow();
      await expect(
        rawCall(
          system.port('order'),
          identity('gateway', 'order'),
          ORDER_PATTERNS.list,
          {},
          { token: aliceForOrder },
        ),
      ).resolves.toEqual({ items: [], nextCursor: null });
    });
  });
});
