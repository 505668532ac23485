import { addProjectConfiguration, workspaceRoot } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eventGenerator } from './generator';
import type { EventGeneratorSchema } from './schema';

/** The real sources the generator reads and extends: order, payment, the gateway and the contracts. */
const REAL_SOURCES = [
  'apps/order/src',
  'apps/payment/src',
  'apps/gateway/src',
  'libs/contracts/src',
];

function copyInto(tree: Tree, path: string): void {
  const absolute = join(workspaceRoot, path);
  if (statSync(absolute).isDirectory()) {
    for (const child of readdirSync(absolute)) copyInto(tree, `${path}/${child}`);
  } else {
    tree.write(path, readFileSync(absolute, 'utf-8'));
  }
}

/** This workspace's apps and contracts, as they are on disk, in an otherwise empty workspace. */
function workspace(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const name of ['gateway', 'order', 'payment']) {
    addProjectConfiguration(tree, name, {
      root: `apps/${name}`,
      tags: ['type:app', `scope:${name}`],
    });
  }
  addProjectConfiguration(tree, 'contracts', { root: 'libs/contracts', tags: ['type:contracts'] });
  REAL_SOURCES.forEach((path) => copyInto(tree, path));
  return tree;
}

const generate = (tree: Tree, options: Partial<EventGeneratorSchema> = {}) =>
  eventGenerator(tree, {
    name: 'refunded',
    producer: 'payment',
    consumer: 'order',
    skipFormat: true,
    ...options,
  });
const read = (tree: Tree, path: string) => tree.read(path, 'utf-8') ?? '';
/** The route object literal of EVENT_ROUTES, parsed: keys and values as written. */
const routes = (tree: Tree) =>
  [
    ...read(tree, 'libs/contracts/src/lib/events.constants.ts').matchAll(
      /(\w+): \{\s*subject: '([^']+)',\s*producer: '([^']+)',\s*consumers: \[([^\]]*)\],?\s*\}/g,
    ),
  ].map(([, key, subject, producer, consumers]) => ({
    key,
    subject,
    producer,
    consumers: consumers
      .split(',')
      .map((c) => c.trim().replace(/'/g, ''))
      .filter(Boolean),
  }));
const occurrences = (text: string, fragment: string) => text.split(fragment).length - 1;

describe('event generator', () => {
  describe('payment refunded, to order: a producer with an outbox, a consumer with handlers', () => {
    let tree: Tree;

    beforeAll(async () => {
      tree = workspace();
      await generate(tree);
    });

    it('adds its route to EVENT_ROUTES, from which the broker permissions are derived', () => {
      expect(routes(tree)).toEqual([
        {
          key: 'paymentCompleted',
          subject: 'events.payment.completed',
          producer: 'payment',
          consumers: ['order'],
        },
        {
          key: 'paymentRefunded',
          subject: 'events.payment.refunded',
          producer: 'payment',
          consumers: ['order'],
        },
      ]);
    });

    it('adds its validated payload to @acme/contracts', () => {
      const dto = read(tree, 'libs/contracts/src/lib/payment-refunded.dto.ts');
      expect(dto).toContain('export class PaymentRefundedDto {');
      expect(dto).toMatch(/@IsUUID\(\)\s+paymentId: string;/);
      expect(read(tree, 'libs/contracts/src/index.ts')).toContain(
        "export { PaymentRefundedDto } from './lib/payment-refunded.dto';",
      );
    });

    it("gives payment a typed function that writes the event into its outbox, and keeps payment's relay and table", () => {
      const writer = read(tree, 'apps/payment/src/events/payment-refunded.event.ts');
      expect(writer).toContain('export function addPaymentRefundedEvent(');
      expect(writer).toContain(
        'addOutboxEvent(tx, SERVICE_NAME, EVENT_ROUTES.paymentRefunded, data,',
      );
      // Its outbox and relay exist (migrations 0001-0003, PaymentsModule): nothing else changes.
      expect(read(tree, 'apps/payment/src/migrations.ts')).toBe(
        readFileSync(join(workspaceRoot, 'apps/payment/src/migrations.ts'), 'utf-8'),
      );
      expect(tree.exists('apps/payment/src/events/payment-events.module.ts')).toBe(false);
      expect(read(tree, 'apps/payment/src/app.module.ts')).toBe(
        readFileSync(join(workspaceRoot, 'apps/payment/src/app.module.ts'), 'utf-8'),
      );
    });

    it('gives order a handler that only payment may trigger, in its events module', () => {
      const controller = read(tree, 'apps/order/src/events/payment-refunded.controller.ts');
      expect(controller).toMatch(
        /@EventPattern\(EVENT_ROUTES\.paymentRefunded\.subject\)\s+@AllowServices\('payment'\)\s+@Policy\(isService\('payment'\)\)\s+onPaymentRefunded\(@Payload\(\) event: PaymentRefundedDto\)/,
      );
      const module = read(tree, 'apps/order/src/events/order-events.module.ts');
      expect(module).toContain(
        "import { PaymentRefundedController } from './payment-refunded.controller';",
      );
      expect(module).toMatch(/controllers: \[PaymentRefundedController\]/);
      const appModule = read(tree, 'apps/order/src/app.module.ts');
      expect(appModule).toContain(
        "import { OrderEventsModule } from './events/order-events.module';",
      );
      expect(appModule).toMatch(/OrdersModule,\s+OrderEventsModule,\s+\],/);
    });

    it('keeps order’s processed_events migration, once', () => {
      expect(
        occurrences(read(tree, 'apps/order/src/migrations.ts'), 'PROCESSED_EVENTS_MIGRATION'),
      ).toBe(2);
    });

    it('adds a second event to the same events module', async () => {
      await generate(tree, { name: 'disputed' });
      const module = read(tree, 'apps/order/src/events/order-events.module.ts');
      expect(module).toMatch(
        /controllers: \[PaymentRefundedController,\s+PaymentDisputedController\]/,
      );
      expect(occurrences(read(tree, 'apps/order/src/app.module.ts'), 'OrderEventsModule,')).toBe(1);
      expect(routes(tree).map((route) => route.key)).toEqual([
        'paymentCompleted',
        'paymentRefunded',
        'paymentDisputed',
      ]);
    });
  });

  describe('order shipped, to payment: a producer without an outbox, a consumer without handlers', () => {
    let tree: Tree;

    beforeAll(async () => {
      tree = workspace();
      await generate(tree, { name: 'shipped', producer: 'order', consumer: 'payment' });
    });

    it("adds order's outbox table and its relay", () => {
      const migrations = read(tree, 'apps/order/src/migrations.ts');
      expect(migrations).toContain(
        "import { PROCESSED_EVENTS_MIGRATION, OUTBOX_MIGRATION } from '@acme/events';",
      );
      expect(migrations).toMatch(/PROCESSED_EVENTS_MIGRATION,\s+OUTBOX_MIGRATION,\s+\];/);
      const module = read(tree, 'apps/order/src/events/order-events.module.ts');
      expect(module).toContain("import { OutboxRelay } from '@acme/events';");
      expect(module).toMatch(/providers: \[OutboxRelay\]/);
      expect(read(tree, 'apps/order/src/events/order-shipped.event.ts')).toContain(
        'EVENT_ROUTES.orderShipped',
      );
    });

    it("adds payment's processed_events table and its handler", () => {
      const migrations = read(tree, 'apps/payment/src/migrations.ts');
      expect(migrations).toContain("import { PROCESSED_EVENTS_MIGRATION } from '@acme/events';");
      expect(migrations).toMatch(/PROCESSED_EVENTS_MIGRATION,\s*\];\s*$/);
      expect(read(tree, 'apps/payment/src/events/order-shipped.controller.ts')).toMatch(
        /@AllowServices\('order'\)\s+@Policy\(isService\('order'\)\)/,
      );
      expect(read(tree, 'apps/payment/src/app.module.ts')).toMatch(
        /imports: \[[\s\S]*PaymentEventsModule,\s+\],/,
      );
    });
  });

  describe('refuses, naming the problem, and writes nothing', () => {
    it.each([
      [
        { producer: 'inventory' },
        'Unknown service "inventory": producer and consumers must be apps tagged type:app (gateway, order, payment).',
      ],
      [
        { consumer: 'payment' },
        'Invalid consumer "payment": a service does not consume its own events.',
      ],
      [{ consumer: '' }, '--consumer needs at least one service: nobody would read this event.'],
      [{ name: 'Refunded' }, 'Invalid event name "Refunded": use kebab-case'],
      [{ name: 'completed' }, 'Event events.payment.completed exists already in EVENT_ROUTES'],
      [
        { consumer: 'gateway' },
        'gateway cannot take part in events: its AppModule (apps/gateway/src/app.module.ts) has no PersistenceModule and no EventsModule.',
      ],
    ])('%j', async (options, message) => {
      const tree = workspace();
      const before = tree.listChanges().map((change) => [change.path, change.content?.toString()]);
      await expect(generate(tree, options)).rejects.toThrow(message);
      expect(tree.listChanges().map((change) => [change.path, change.content?.toString()])).toEqual(
        before,
      );
    });
  });
});
