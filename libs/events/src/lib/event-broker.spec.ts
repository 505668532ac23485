import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AckPolicy, connect } from 'nats';
import type { NatsConnection } from 'nats';
import { migrate, openDatabase } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { EventSigner, EventVerifier } from '@acme/transport';
import type { TlsMaterial, VerifiedEvent } from '@acme/transport';
import { createCertificateAuthority, issueServiceCertificate } from '@acme/transport/testing';
import type { CertificateAuthority } from '@acme/transport/testing';
import { connectBroker } from './broker.connection';
import { DEAD_LETTER_HEADERS, EventConsumer, EventRefusedError } from './event.consumer';
import { deadLetterStreamOf, durableOf, streamOf } from './event-names';
import { EventPublisher } from './event.publisher';
import { PROCESSED_EVENTS_MIGRATION } from './processed-events.migration';
import { NatsServer } from './testing/nats-server';

const DOMAIN = 'acme.test';
const COMPLETED = 'events.payment.completed';
const ROUTES = [{ subject: COMPLETED, producer: 'payment', consumers: ['order'] }];

interface Pki {
  dir: string;
  ca: CertificateAuthority;
  material(service: string): TlsMaterial;
}

async function createPki(services: string[]): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'acme-events-pki-'));
  const ca = await createCertificateAuthority(`${DOMAIN} test CA`);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  const issued = new Map<string, TlsMaterial>();
  for (const service of services) {
    const { certPem, keyPem } = await issueServiceCertificate(ca, service, DOMAIN);
    writeFileSync(join(dir, `${service}.crt`), certPem);
    writeFileSync(join(dir, `${service}.key`), keyPem);
    issued.set(service, {
      ca: Buffer.from(ca.certPem),
      cert: Buffer.from(certPem),
      key: Buffer.from(keyPem),
    });
  }
  return { dir, ca, material: (service) => issued.get(service) as TlsMaterial };
}

function until<T>(probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const value = probe();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error('timed out waiting'));
      setTimeout(tick, 50);
    };
    tick();
  });
}

describe('events on a real NATS JetStream broker (TLS, a certificate per service)', () => {
  let pki: Pki;
  let broker: NatsServer;
  let payment: NatsConnection;
  let order: NatsConnection;
  let admin: NatsConnection;
  let publisher: EventPublisher;
  let database: OpenDatabase;
  let dataDir: string;

  const connectAs = (service: string) =>
    connectBroker({ url: broker.url, service, tls: pki.material(service), trustDomain: DOMAIN });

  beforeAll(async () => {
    pki = await createPki(['broker', 'payment', 'order', 'gateway', 'operator']);
    broker = await NatsServer.start({
      caFile: join(pki.dir, 'ca.crt'),
      certFile: join(pki.dir, 'broker.crt'),
      keyFile: join(pki.dir, 'broker.key'),
      trustDomain: DOMAIN,
      routes: ROUTES,
      operators: ['operator'],
    });
    payment = await connectAs('payment');
    admin = await connectAs('operator');
    order = await connectAs('order');
    publisher = await EventPublisher.open(
      payment,
      'payment',
      new EventSigner(pki.material('payment')),
    );
    dataDir = mkdtempSync(join(tmpdir(), 'acme-events-db-'));
    database = await openDatabase({ dataDir, schema: 'orders' });
    await migrate(database, [PROCESSED_EVENTS_MIGRATION]);
  }, 60_000);

  afterAll(async () => {
    await payment?.close();
    await order?.close();
    await admin?.close();
    await database?.close();
    await broker?.remove();
    rmSync(pki.dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('transport security', () => {
    it('stores an event published by its producer, with a publish ack', async () => {
      const ack = await publisher.publish({ id: randomUUID(), type: COMPLETED }, { n: 0 });
      expect(ack).toMatchObject({ stream: streamOf('payment'), duplicate: false });
    });

    it("refuses payment publishing on order's subjects: a permission violation", async () => {
      await expect(
        payment.jetstream().publish('events.order.created', Buffer.from('{}'), { timeout: 3_000 }),
      ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      const violation =
        'Publish Violation - User "spiffe://acme.test/payment", Subject "events.order.created"';
      await until(() => (broker.log.includes(violation) ? true : undefined));
    });

    it('refuses order publishing as payment', async () => {
      await expect(
        order.jetstream().publish(COMPLETED, Buffer.from('{}'), { timeout: 3_000 }),
      ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    });

    it("refuses order reading payment's events around its durable consumer", async () => {
      const errors: string[] = [];
      const watching = (async () => {
        for await (const status of order.status()) errors.push(String(status.data));
      })();
      order.subscribe('events.payment.>');
      await until(() => errors.find((e) => e.includes('PERMISSIONS_VIOLATION')));
      void watching;
    });

    it('refuses order widening its durable consumer to every event of payment', async () => {
      const jsm = await order.jetstreamManager();
      await expect(
        jsm.consumers.add(streamOf('payment'), {
          durable_name: durableOf('order', COMPLETED),
          filter_subject: 'events.payment.>',
          ack_policy: AckPolicy.Explicit,
        }),
      ).rejects.toBeDefined();
      const violation = `Publish Violation - User "spiffe://acme.test/order", Subject "$JS.API.CONSUMER.CREATE.EVENTS_PAYMENT.order__payment_completed.events.payment.>"`;
      await until(() => (broker.log.includes(violation) ? true : undefined));
    });

    it('refuses a service that takes no part in events (no broker user)', async () => {
      await expect(connectAs('gateway')).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    });

    it('refuses a client without a certificate, and one without TLS', async () => {
      await expect(
        connect({
          servers: broker.url,
          tls: { ca: pki.ca.certPem },
          reconnect: false,
          timeout: 3_000,
        }),
      ).rejects.toBeDefined();
      await expect(
        connect({ servers: `127.0.0.1:${broker.port}`, reconnect: false, timeout: 3_000 }),
      ).rejects.toBeDefined();
    });
  });

  describe(EventConsumer.name, () => {
    let consumer: EventConsumer | undefined;
    const seen: VerifiedEvent[] = [];
    /** What the handler does with an event; throwing fails it. */
    let behaviour: (event: VerifiedEvent) => void = () => undefined;

    /** The dead letters' reasons, read as an operator would (order may not read its own stream). */
    const deadLetterReasons = async (): Promise<string[]> => {
      const jsm = await admin.jetstreamManager();
      const info = await jsm.streams.info(deadLetterStreamOf('order'));
      const reasons: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
        const stored = await jsm.streams.getMessage(deadLetterStreamOf('order'), { seq });
        reasons.push(stored.header.get(DEAD_LETTER_HEADERS.reason));
      }
      return reasons;
    };

    beforeAll(() => {
      consumer = EventConsumer.start({
        connection: order,
        service: 'order',
        subject: COMPLETED,
        verifier: new EventVerifier(pki.ca.certPem, DOMAIN),
        database,
        dispatch: (event) =>
          Promise.resolve().then(() => {
            behaviour(event);
            seen.push(event);
          }),
        maxDeliveries: 3,
        ackWaitMs: 2_000,
      });
    });

    afterAll(() => consumer?.stop());

    it('hands each signed event to its handler once, with the producer it proved', async () => {
      const id = randomUUID();
      await publisher.publish({ id, type: COMPLETED, actor: 'user-1', requestId: 'r-1' }, { n: 1 });
      const event = await until(() => seen.find((e) => e.id === id));
      expect(event).toMatchObject({
        producer: `spiffe://${DOMAIN}/payment`,
        actor: 'user-1',
        requestId: 'r-1',
        data: { n: 1 },
      });
      const rows = await database.query('SELECT 1 FROM processed_events WHERE event_id = $1', [id]);
      expect(rows).toHaveLength(1);
    });

    it('acknowledges a replayed event id without handling it again', async () => {
      const id = randomUUID();
      await publisher.publish({ id, type: COMPLETED }, { n: 2 });
      await until(() => seen.find((e) => e.id === id));
      // Past the broker's duplicate window as far as it knows: another message id, same event.
      const jws = new EventSigner(pki.material('payment')).sign({ id, type: COMPLETED }, { n: 2 });
      await payment.jetstream().publish(COMPLETED, Buffer.from(jws), { msgID: randomUUID() });
      const marker = randomUUID();
      await publisher.publish({ id: marker, type: COMPLETED }, { n: 3 });
      await until(() => seen.find((e) => e.id === marker));
      expect(seen.filter((e) => e.id === id)).toHaveLength(1);
    });

    it('dead-letters an unsigned event and a tampered one, and never hands them over', async () => {
      const before = seen.length;
      await payment.jetstream().publish(COMPLETED, Buffer.from('{"orderId":"o-1"}'));
      const jws = new EventSigner(pki.material('payment')).sign(
        { id: randomUUID(), type: COMPLETED },
        { amount: 1 },
      );
      const [header, , signature] = jws.split('.');
      const forged = Buffer.from(JSON.stringify({ amount: 1_000_000 })).toString('base64url');
      await payment.jetstream().publish(COMPLETED, Buffer.from(`${header}.${forged}.${signature}`));
      const reasons = await pollReasons(2);
      expect(reasons.slice(-2)).toEqual(['unsigned', 'bad_signature']);
      expect(seen).toHaveLength(before);
    });

    async function pollReasons(count: number): Promise<string[]> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const reasons = await deadLetterReasons().catch(() => []);
        if (reasons.length >= count || Date.now() > deadline) return reasons;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it('dead-letters an event its handler refuses for good', async () => {
      const id = randomUUID();
      behaviour = (event) => {
        if (event.id === id) throw new EventRefusedError('order already paid by another payment');
      };
      const count = (await pollReasons(0)).length;
      await publisher.publish({ id, type: COMPLETED }, { n: 4 });
      const reasons = await pollReasons(count + 1);
      expect(reasons[count]).toBe('refused');
      expect(seen.find((e) => e.id === id)).toBeUndefined();
    });

    it('retries a failing event, then dead-letters it after the bounded deliveries', async () => {
      const id = randomUUID();
      let attempts = 0;
      behaviour = (event) => {
        if (event.id !== id) return;
        attempts += 1;
        throw new Error('database unavailable');
      };
      const count = (await pollReasons(0)).length;
      await publisher.publish({ id, type: COMPLETED }, { n: 5 });
      const reasons = await pollReasons(count + 1);
      expect(reasons[count]).toBe('retries_exhausted');
      expect(attempts).toBe(3);
    }, 30_000);

    it('attaches again when its durable consumer is deleted under it', async () => {
      behaviour = () => undefined;
      await (
        await admin.jetstreamManager()
      ).consumers.delete(streamOf('payment'), durableOf('order', COMPLETED));
      const id = randomUUID();
      await publisher.publish({ id, type: COMPLETED }, {});
      await until(() => seen.find((e) => e.id === id), 20_000);
    }, 30_000);

    it('loses nothing when the broker is killed mid-stream', async () => {
      behaviour = () => undefined;
      const ids = Array.from({ length: 20 }, () => randomUUID());
      for (const id of ids.slice(0, 10)) await publisher.publish({ id, type: COMPLETED }, {});
      await broker.kill();
      await broker.restart();
      for (const id of ids.slice(10)) {
        // The publisher retries until it has the broker's ack, as the outbox does.
        for (;;) {
          try {
            await publisher.publish({ id, type: COMPLETED }, {});
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      }
      await until(
        () => (ids.every((id) => seen.some((e) => e.id === id)) ? true : undefined),
        30_000,
      );
      for (const id of ids) expect(seen.filter((e) => e.id === id)).toHaveLength(1);
    }, 60_000);
  });

  it('names its streams and durable consumers from the routes', () => {
    expect(streamOf('payment')).toBe('EVENTS_PAYMENT');
    expect(durableOf('order', COMPLETED)).toBe('order__payment_completed');
  });
});
