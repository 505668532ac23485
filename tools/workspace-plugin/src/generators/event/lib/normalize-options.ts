import { getProjects, names } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import type { EventGeneratorSchema } from '../schema';

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
export const EVENT_ROUTES_FILE = 'libs/contracts/src/lib/events.constants.ts';

export interface NormalizedEventOptions {
  /** `refunded`: the subject's last token. */
  name: string;
  producer: string;
  consumers: string[];
  /** `events.payment.refunded` */
  subject: string;
  /** `payment-refunded`: stem of the files. */
  fileName: string;
  /** `PaymentRefunded`: stem of the DTO and handler class names. */
  className: string;
  /** `paymentRefunded`: its key in EVENT_ROUTES. */
  routeKey: string;
  skipFormat: boolean;
}

/** Validates the options against the workspace (nothing is written when one is wrong). */
export function normalizeOptions(
  tree: Tree,
  options: EventGeneratorSchema,
): NormalizedEventOptions {
  const name = (options.name ?? '').trim();
  const producer = (options.producer ?? '').trim();
  assertKebab(name, 'event name');
  assertKebab(producer, 'producer');
  const consumers = [
    ...new Set(
      (options.consumer ?? '')
        .split(',')
        .map((consumer) => consumer.trim())
        .filter(Boolean),
    ),
  ];
  if (consumers.length === 0) {
    throw new Error('--consumer needs at least one service: nobody would read this event.');
  }
  const apps = [...getProjects(tree).entries()]
    .filter(([, project]) => project.tags?.includes('type:app'))
    .map(([projectName]) => projectName);
  for (const service of [producer, ...consumers]) {
    assertKebab(service, 'service');
    if (!apps.includes(service)) {
      throw new Error(
        `Unknown service "${service}": producer and consumers must be apps tagged type:app (${apps.sort().join(', ')}).`,
      );
    }
    assertWired(tree, service);
  }
  if (consumers.includes(producer)) {
    throw new Error(`Invalid consumer "${producer}": a service does not consume its own events.`);
  }
  const subject = `events.${producer}.${name}`;
  const routes = tree.read(EVENT_ROUTES_FILE, 'utf-8');
  if (routes === null) {
    throw new Error(`${EVENT_ROUTES_FILE} not found: EVENT_ROUTES lists every event.`);
  }
  if (routes.includes(`'${subject}'`)) {
    throw new Error(`Event ${subject} exists already in EVENT_ROUTES (${EVENT_ROUTES_FILE}).`);
  }
  const fileName = `${producer}-${name}`;
  const { className, propertyName } = names(fileName);
  return {
    name,
    producer,
    consumers,
    subject,
    fileName,
    className,
    routeKey: propertyName,
    skipFormat: options.skipFormat ?? false,
  };
}

function assertKebab(value: string, what: string): void {
  if (!KEBAB_CASE.test(value)) {
    throw new Error(
      `Invalid ${what} "${value}": use kebab-case (a-z, 0-9, single dashes, starting with a letter).`,
    );
  }
}

/**
 * A producer keeps its events in an outbox table and a consumer the ids of
 * those it handled, both in its own database, and both talk to the broker:
 * the service must already have its database and the broker connection.
 */
function assertWired(tree: Tree, service: string): void {
  const appModule = `apps/${service}/src/app.module.ts`;
  const source = tree.read(appModule, 'utf-8') ?? '';
  const missing = ['PersistenceModule', 'EventsModule'].filter((name) => !source.includes(name));
  if (missing.length > 0) {
    throw new Error(
      `${service} cannot take part in events: its AppModule (${appModule}) has no ${missing.join(' and no ')}. ` +
        'An event needs a database (the outbox, processed_events) and the broker connection: wire them as apps/order/src/app.module.ts does, with brokerEnv() in its config.ts.',
    );
  }
  if (!tree.exists(`apps/${service}/src/migrations.ts`)) {
    throw new Error(`${service} has no src/migrations.ts, where its event tables are added.`);
  }
}
