import { ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenDatabase } from '@acme/persistence';
import { openEmbeddedTestDatabase } from '@acme/persistence/testing';
import { EventVerifier } from '@acme/transport';
import type { TlsMaterial } from '@acme/transport';
import { createCertificateAuthority, issueServiceCertificate } from '@acme/transport/testing';
import type { NatsConnection } from 'nats';
import { connectBroker } from './broker.connection';
import { EventBroker } from './event-broker';
import { addOutboxEvent } from './event-outbox';
import { streamOf } from './event-names';
import { OUTBOX_MIGRATION } from './outbox.migration';
import { OutboxRelay } from './outbox.relay';
import type { OutboxDirectDelivery } from './outbox.relay';
import { NatsServer } from './testing/nats-server';

const DOMAIN = 'acme.test';
const DIRECT_TOPIC = 'order.payment-completed';
const COMPLETED = {
  subject: 'events.payment.completed',
  producer: 'payment',
  consumers: ['order'],
};
const REFUNDED = { subject: 'events.payment.refunded', producer: 'payment', consumers: ['order'] };

interface OutboxRow {
  id: number;
  attempts: number;
  delivered: boolean;
  last_error: string | null;
  retry_in_sec: number;
}

/** The consumer as the direct path sees it: records what it was sent, answers what it is told. */
class DirectStub implements OutboxDirectDelivery {
  readonly subjects = { [DIRECT_TOPIC]: COMPLETED.subject };
  readonly received: { topic: string; payload: unknown }[] = [];
  answer: () => Promise<unknown> = () => Promise.resolve({ ok: true });

  send(topic: string, payload: unknown): Promise<unknown> {
    this.received.push({ topic, payload });
    return this.answer();
  }
}

describe(OutboxRelay.name, () => {
  let database: OpenDatabase;
  let direct: DirectStub;
  let relay: OutboxRelay;

  beforeAll(async () => {
    database = await openEmbeddedTestDatabase('payments', [OUTBOX_MIGRATION]);
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(async () => {
    await database.exec('DELETE FROM outbox');
    direct = new DirectStub();
    relay = new OutboxRelay(database, null, direct);
  });

  async function enqueue(orderId: string, topic = DIRECT_TOPIC): Promise<void> {
    await database.query('INSERT INTO outbox (topic, payload) VALUES ($1, $2)', [
      topic,
      JSON.stringify({ orderId, paymentId: `payment-of-${orderId}` }),
    ]);
  }

  async function rows(): Promise<OutboxRow[]> {
    return database.query<OutboxRow>(
      `SELECT id::int AS id, attempts, delivered_at IS NOT NULL AS delivered, last_error,
         round(extract(epoch FROM next_attempt_at - now()))::int AS retry_in_sec
       FROM outbox ORDER BY id`,
    );
  }

  /** One pass of the relay, as its timer or a new event starts it. */
  async function drain(target = relay): Promise<void> {
    target.kick();
    await target.onApplicationShutdown();
  }

  describe('without a broker', () => {
    it('delivers each pending event of a direct topic, and marks it delivered', async () => {
      await enqueue('o-1');
      await enqueue('o-2');

      await drain();

      expect(direct.received).toEqual([
        { topic: DIRECT_TOPIC, payload: { orderId: 'o-1', paymentId: 'payment-of-o-1' } },
        { topic: DIRECT_TOPIC, payload: { orderId: 'o-2', paymentId: 'payment-of-o-2' } },
      ]);
      expect(await rows()).toEqual([
        expect.objectContaining({ attempts: 1, delivered: true, last_error: null }),
        expect.objectContaining({ attempts: 1, delivered: true, last_error: null }),
      ]);
    });

    it('sends a delivered event never again', async () => {
      await enqueue('o-1');
      await drain();

      await drain();

      expect(direct.received).toHaveLength(1);
    });

    it('keeps an event that was not acknowledged, and retries it later with backoff', async () => {
      await enqueue('o-1');
      direct.answer = () => Promise.reject(new Error('Connection closed'));

      await drain();

      const [row] = await rows();
      expect(row).toMatchObject({ attempts: 1, delivered: false, last_error: 'Connection closed' });
      expect(row.retry_in_sec).toBe(2);
      await drain();
      expect(direct.received).toHaveLength(1); // not due yet
    });

    it('retries a refused service token (401): the token may have been rotated', async () => {
      await enqueue('o-1');
      direct.answer = () => Promise.reject(new UnauthorizedException('token expired'));

      await drain();

      expect(await rows()).toEqual([expect.objectContaining({ delivered: false })]);
    });

    it.each([
      ['403', new ForbiddenException('payment may not send this')],
      ['404', new NotFoundException('order deleted')],
    ])(
      'gives up on an event the consumer refuses for good (%s), keeping the reason',
      async (_status, refusal) => {
        await enqueue('o-1');
        direct.answer = () => Promise.reject(refusal);

        await drain();
        await drain();

        expect(direct.received).toHaveLength(1);
        expect(await rows()).toEqual([
          expect.objectContaining({ delivered: true, last_error: refusal.message }),
        ]);
      },
    );

    it('delivers what is pending, in batches, when more than one batch is waiting', async () => {
      for (let i = 0; i < 45; i++) await enqueue(`o-${i}`);

      await drain();

      expect(direct.received).toHaveLength(45);
      expect((await rows()).every((row) => row.delivered)).toBe(true);
    });

    it('keeps a broker-only event until a broker is configured, saying so', async () => {
      await enqueue('o-1', REFUNDED.subject);

      await drain(new OutboxRelay(database, null));

      expect(direct.received).toEqual([]);
      expect(await rows()).toEqual([
        expect.objectContaining({
          delivered: false,
          last_error:
            'events.payment.refunded is delivered by the broker only, and BROKER_URL is not set',
        }),
      ]);
    });
  });

  describe(addOutboxEvent.name, () => {
    it('writes the event in the caller transaction: nothing if it rolls back', async () => {
      await expect(
        database.transaction(async (tx) => {
          await addOutboxEvent(tx, 'payment', REFUNDED, { orderId: 'o-1' }, { actor: 'alice' });
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await rows()).toEqual([]);

      await database.transaction((tx) =>
        addOutboxEvent(
          tx,
          'payment',
          REFUNDED,
          { orderId: 'o-1' },
          { actor: 'alice', requestId: 'r-1' },
        ),
      );
      expect(
        await database.query('SELECT topic, payload, actor_id, request_id FROM outbox'),
      ).toEqual([
        {
          topic: REFUNDED.subject,
          payload: { orderId: 'o-1' },
          actor_id: 'alice',
          request_id: 'r-1',
        },
      ]);
    });

    it('refuses an event of another producer, writing nothing', async () => {
      await expect(
        database.transaction((tx) => addOutboxEvent(tx, 'order', REFUNDED, { orderId: 'o-1' })),
      ).rejects.toThrow('order may not publish events.payment.refunded: its producer is payment');
      expect(await rows()).toEqual([]);
    });
  });

  describe('with a broker', () => {
    let dir: string;
    let server: NatsServer;
    let broker: EventBroker;
    let operator: NatsConnection;
    const materials = new Map<string, TlsMaterial>();
    const material = () => materials.get('payment') as TlsMaterial;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'acme-outbox-pki-'));
      const ca = await createCertificateAuthority(`${DOMAIN} test CA`);
      writeFileSync(join(dir, 'ca.crt'), ca.certPem);
      for (const service of ['broker', 'payment', 'operator']) {
        const issued = await issueServiceCertificate(ca, service, DOMAIN);
        writeFileSync(join(dir, `${service}.crt`), issued.certPem);
        writeFileSync(join(dir, `${service}.key`), issued.keyPem);
        materials.set(service, {
          ca: Buffer.from(ca.certPem),
          cert: Buffer.from(issued.certPem),
          key: Buffer.from(issued.keyPem),
        });
      }
      server = await NatsServer.start({
        caFile: join(dir, 'ca.crt'),
        certFile: join(dir, 'broker.crt'),
        keyFile: join(dir, 'broker.key'),
        trustDomain: DOMAIN,
        routes: [COMPLETED, REFUNDED],
        // Reads the stream, which payment itself may not.
        operators: ['operator'],
      });
      operator = await connectBroker({
        url: server.url,
        service: 'operator',
        tls: materials.get('operator') as TlsMaterial,
        trustDomain: DOMAIN,
      });
      broker = await EventBroker.open({
        url: server.url,
        service: 'payment',
        tls: material(),
        trustDomain: DOMAIN,
      });
    }, 30_000);

    afterAll(async () => {
      await operator?.close();
      await broker?.close();
      await server?.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    it('publishes a broker event and a direct topic under its subject, signed, and marks them delivered', async () => {
      await database.transaction((tx) =>
        addOutboxEvent(tx, 'payment', REFUNDED, { orderId: 'o-9' }, { actor: 'alice' }),
      );
      await enqueue('o-8');

      await drain(new OutboxRelay(database, broker, direct));

      expect(direct.received).toEqual([]);
      expect((await rows()).map((row) => row.delivered)).toEqual([true, true]);
      const jsm = await operator.jetstreamManager();
      const stored = await Promise.all(
        [1, 2].map((seq) => jsm.streams.getMessage(streamOf('payment'), { seq })),
      );
      const verifier = new EventVerifier(material().ca, DOMAIN);
      const events = stored.map((message) => verifier.verify(message.string(), message.subject));
      expect(
        events.map(({ type, data, actor, producer }) => ({ type, data, actor, producer })),
      ).toEqual([
        {
          type: REFUNDED.subject,
          data: { orderId: 'o-9' },
          actor: 'alice',
          producer: 'spiffe://acme.test/payment',
        },
        {
          type: COMPLETED.subject,
          data: { orderId: 'o-8', paymentId: 'payment-of-o-8' },
          actor: undefined,
          producer: 'spiffe://acme.test/payment',
        },
      ]);
      expect(stored.map((message) => message.subject)).toEqual([
        REFUNDED.subject,
        COMPLETED.subject,
      ]);
    });
  });
});
