import type { JetStreamManager, StreamConfig } from 'nats';
import { EVENT_LIFETIME_SECONDS } from '@acme/transport';
import { nats } from './nats-client';

/** How long the broker keeps events: as long as consumers accept them. */
const MAX_AGE_MS = EVENT_LIFETIME_SECONDS * 1000;
/** A republish with the same event id within this window is stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** Creates a stream this service owns, or brings it to this configuration. */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
): Promise<void> {
  const { nanos, StorageType } = nats();
  const config: Partial<StreamConfig> & { name: string } = {
    name,
    subjects,
    storage: StorageType.File,
    max_age: nanos(MAX_AGE_MS),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add(config);
    return;
  }
  await jsm.streams.update(name, config);
}
