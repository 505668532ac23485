export { connectBroker } from './lib/broker.connection';
export type { BrokerOptions } from './lib/broker.connection';
export {
  brokerPermissions,
  brokerServicesOf,
  renderBrokerAuthorization,
} from './lib/broker-permissions';
export type { BrokerPermissions, EventRouteSpec } from './lib/broker-permissions';
export {
  deadLetterStreamOf,
  deadLetterSubjectOf,
  durableOf,
  producerOf,
  streamOf,
} from './lib/event-names';
export { EventPublisher } from './lib/event.publisher';
export { DEAD_LETTER_HEADERS, EventConsumer, EventRefusedError } from './lib/event.consumer';
export type { EventConsumerOptions, EventDispatch } from './lib/event.consumer';
export { PROCESSED_EVENTS_MIGRATION } from './lib/processed-events.migration';
export { OUTBOX_MIGRATION } from './lib/outbox.migration';
export { addOutboxEvent } from './lib/event-outbox';
export type { OutboxEventMeta } from './lib/event-outbox';
export { OUTBOX_DIRECT_DELIVERY, OutboxRelay } from './lib/outbox.relay';
export type { OutboxDirectDelivery } from './lib/outbox.relay';
export { EventBroker } from './lib/event-broker';
export { EVENT_BROKER, EventsModule } from './lib/events.module';
export type { EventsModuleAsyncOptions } from './lib/events.module';
