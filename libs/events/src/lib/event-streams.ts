import { nanos, StorageType } from 'nats';
import type { JetStreamManager, StreamConfig } from 'nats';
import { EVENT_LIFETIME_SECONDS } from '@acme/transport';

/** How long the broker keeps events: as long as consumers accept them. */
const MAX_AGE_NS = nanos(EVENT_LIFETIME_SECONDS * 1000);
/** A republish with the same event id within this window is stored once. */
const DUPLICATE_WINDOW_NS = nanos(2 * 60 * 1000);

/** Creates a stream this service owns, or brings it to this configuration. */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name,
    subjects,
    storage: StorageType.File,
    max_age: MAX_AGE_NS,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add(config);
    return;
  }
  await jsm.streams.update(name, config);
}
