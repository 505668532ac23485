/**
 * Names on the broker, all derived from an event's subject and the consuming
 * service, so that the broker's permissions and the code cannot disagree.
 * `events.<producer>.<event>`: the producer owns the stream `EVENTS_<PRODUCER>`.
 */
const SUBJECT = /^events\.([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$/;
const SERVICE = /^[a-z][a-z0-9-]*$/;

function token(name: string): string {
  return name.replace(/-/g, '_');
}

/** The producing service named by an event subject; throws for a subject outside `events.<service>.<event>`. */
export function producerOf(subject: string): string {
  const match = SUBJECT.exec(subject);
  if (!match) throw new Error(`event subject ${subject} is not events.<service>.<event>`);
  return match[1];
}

/** Every event subject a service may publish. */
export function publishSubjectsOf(producer: string): string {
  return `events.${checked(producer)}.>`;
}

/** The stream holding every event of one producer. */
export function streamOf(producer: string): string {
  return `EVENTS_${token(checked(producer)).toUpperCase()}`;
}

/** The durable consumer of one service for one event subject. */
export function durableOf(consumer: string, subject: string): string {
  const match = SUBJECT.exec(subject);
  if (!match) throw new Error(`event subject ${subject} is not events.<service>.<event>`);
  return `${token(checked(consumer))}__${token(match[1])}_${token(match[2])}`;
}

/** Where a consumer puts the events it gives up on, and the stream that keeps them. */
export function deadLetterSubjectOf(consumer: string, subject: string): string {
  return `deadletter.${checked(consumer)}.${subject}`;
}

export function deadLetterStreamOf(consumer: string): string {
  return `DEADLETTER_${token(checked(consumer)).toUpperCase()}`;
}

/** Replies to a service's requests (publish acks, pulls) come to its own inbox prefix only. */
export function inboxPrefixOf(service: string): string {
  return `_INBOX.${checked(service)}`;
}

function checked(service: string): string {
  if (!SERVICE.test(service)) throw new Error(`invalid service name ${service}`);
  return service;
}
