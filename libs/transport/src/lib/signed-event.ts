import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isTraceCarrier } from '@acme/telemetry';
import type { TlsMaterial } from './tls-material';

/** What an event says besides its data: who caused it, and when. Never a bearer token. */
export interface EventClaims {
  /** Unique per event: consumers record it and refuse it a second time. */
  id: string;
  /** The event's subject, e.g. `events.payment.completed`. */
  type: string;
  /** The user whose call caused the event, if a user's call did. */
  actor?: string;
  /** The request id of the call that caused the event. */
  requestId?: string;
  /** W3C trace context of the publishing span, so that the consumer's span joins its trace. */
  traceparent?: string;
  tracestate?: string;
}

/** An event whose signature, certificate chain and lifetime were checked. */
export interface VerifiedEvent<T = unknown> extends EventClaims {
  /** SPIFFE ID of the producing service, from its certificate. */
  producer: string;
  /** When the producer signed it, and until when consumers accept it (seconds since the epoch). */
  issuedAt: number;
  expiresAt: number;
  data: T;
}

/** Why an event was refused; every refusal is final (retrying cannot make it valid). */
export type EventRejection =
  | 'malformed'
  | 'unsigned'
  | 'bad_signature'
  | 'untrusted_producer'
  | 'expired'
  | 'wrong_type';

export class EventRejectedError extends Error {
  constructor(
    readonly reason: EventRejection,
    message: string,
  ) {
    super(message);
    this.name = EventRejectedError.name;
  }
}

/** How long a consumer accepts an event after it was signed: the broker keeps events as long. */
export const EVENT_LIFETIME_SECONDS = 7 * 24 * 60 * 60;
const CLOCK_SKEW_SECONDS = 60;
const MAX_EVENT_BYTES = 256 * 1024;
const JWS_TYPE = 'acme-event+jws';

interface EventHeader {
  alg: string;
  typ: string;
  /** The producer's certificate, DER in base64 (RFC 7515 `x5c`): no key is distributed separately. */
  x5c: string[];
}

interface EventPayload extends EventClaims {
  iat: number;
  exp: number;
  data: unknown;
}

/**
 * Signs events as one service, with the private key of its mutual-TLS
 * certificate: consumers check the signature against that certificate, and
 * the certificate against the system's CA, so no new key material exists.
 *
 * @example
 * const signer = new EventSigner(readTlsMaterial(files));
 * const jws = signer.sign({ id: randomUUID(), type: 'events.payment.completed' }, event);
 */
export class EventSigner {
  private readonly key: KeyObject;
  private readonly chain: string[];
  private readonly alg: string;

  constructor(material: Pick<TlsMaterial, 'cert' | 'key'>) {
    this.key = createPrivateKey(material.key);
    this.chain = [new X509Certificate(material.cert).raw.toString('base64')];
    this.alg = algorithmOf(this.key);
  }

  /** A compact JWS of the claims and data, valid for {@link EVENT_LIFETIME_SECONDS}. */
  sign(claims: EventClaims, data: unknown, now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    const header: EventHeader = { alg: this.alg, typ: JWS_TYPE, x5c: this.chain };
    const payload: EventPayload = { ...claims, iat, exp: iat + EVENT_LIFETIME_SECONDS, data };
    const input = `${encode(header)}.${encode(payload)}`;
    const signature = sign(hashOf(this.alg), Buffer.from(input), {
      key: this.key,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${signature.toString('base64url')}`;
  }
}

/** A producer's certificate whose chain and SPIFFE ID were checked, as a consumer keeps it. */
interface TrustedProducer {
  publicKey: KeyObject;
  alg: string;
  /** SPIFFE ID of the producing service. */
  producer: string;
  /** The certificate's validity, in milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
}

const MAX_TRUSTED_CERTIFICATES = 1_000;

/**
 * Checks events for one consumer: a signature by a certificate that the
 * system's CA issued, still valid, naming a SPIFFE ID of this trust domain;
 * not expired; of the subject it arrived on. Who may produce which event is
 * the handler's `@AllowServices`, checked after this.
 *
 * @example
 * const event = new EventVerifier(ca, 'acme.internal').verify(message.string(), message.subject);
 */
export class EventVerifier {
  private readonly ca: X509Certificate;
  /**
   * Certificates that passed the chain check, by their DER (`x5c`): a producer signs every
   * event with one, and parsing and checking it cost twice the event's own signature. Each
   * event's signature and the certificate's validity are still checked every time.
   */
  private readonly trusted = new Map<string, TrustedProducer>();

  constructor(
    ca: Buffer | string,
    private readonly trustDomain: string,
  ) {
    this.ca = new X509Certificate(ca);
  }

  verify(jws: string, subject: string, now = Date.now()): VerifiedEvent {
    if (jws.length > MAX_EVENT_BYTES) throw new EventRejectedError('malformed', 'event too large');
    const parts = jws.split('.');
    if (parts.length !== 3) throw new EventRejectedError('unsigned', 'not a signed event (JWS)');
    const [headerPart, payloadPart, signaturePart] = parts;
    const header = decode(headerPart) as Partial<EventHeader> | undefined;
    if (
      !header ||
      header.typ !== JWS_TYPE ||
      !Array.isArray(header.x5c) ||
      typeof header.x5c[0] !== 'string' ||
      !header.x5c[0]
    ) {
      throw new EventRejectedError('unsigned', 'not a signed event (no acme-event+jws header)');
    }
    const { publicKey, alg, producer } = this.trustedProducer(header.x5c[0], now);
    if (header.alg !== alg) {
      throw new EventRejectedError('bad_signature', `algorithm ${String(header.alg)} refused`);
    }
    const valid = verify(
      hashOf(alg),
      Buffer.from(`${headerPart}.${payloadPart}`),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!valid) throw new EventRejectedError('bad_signature', 'signature does not verify');
    const payload = decode(payloadPart) as Partial<EventPayload> | undefined;
    if (!isPayload(payload)) throw new EventRejectedError('malformed', 'claims missing or invalid');
    const seconds = Math.floor(now / 1000);
    if (payload.exp <= seconds || payload.iat > seconds + CLOCK_SKEW_SECONDS) {
      throw new EventRejectedError('expired', `event ${payload.id} expired or not yet valid`);
    }
    if (payload.type !== subject) {
      throw new EventRejectedError(
        'wrong_type',
        `event ${payload.id} of type ${payload.type} arrived on ${subject}`,
      );
    }
    return {
      id: payload.id,
      type: payload.type,
      ...(payload.actor !== undefined && { actor: payload.actor }),
      ...(payload.requestId !== undefined && { requestId: payload.requestId }),
      ...(payload.traceparent !== undefined && { traceparent: payload.traceparent }),
      ...(payload.tracestate !== undefined && { tracestate: payload.tracestate }),
      producer,
      issuedAt: payload.iat,
      expiresAt: payload.exp,
      data: payload.data,
    };
  }

  private trustedProducer(der: string, now: number): TrustedProducer {
    let trusted = this.trusted.get(der);
    if (!trusted) {
      trusted = this.checkCertificate(der);
      // Bounded: a flood of new certificates costs what it did without the cache, never memory.
      if (this.trusted.size >= MAX_TRUSTED_CERTIFICATES) this.trusted.clear();
      this.trusted.set(der, trusted);
    }
    if (trusted.notBefore > now || trusted.notAfter < now) {
      throw new EventRejectedError('untrusted_producer', 'certificate expired or not yet valid');
    }
    return trusted;
  }

  private checkCertificate(der: string): TrustedProducer {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(der, 'base64'));
    } catch {
      throw new EventRejectedError('untrusted_producer', 'x5c is not a certificate');
    }
    if (!certificate.checkIssued(this.ca) || !certificate.verify(this.ca.publicKey)) {
      throw new EventRejectedError('untrusted_producer', 'certificate not issued by the system CA');
    }
    const { publicKey } = certificate;
    return {
      publicKey,
      alg: algorithmOf(publicKey),
      producer: this.producerOf(certificate),
      notBefore: Date.parse(certificate.validFrom),
      notAfter: Date.parse(certificate.validTo),
    };
  }

  private producerOf(certificate: X509Certificate): string {
    const prefix = `URI:spiffe://${this.trustDomain}/`;
    const uri = certificate.subjectAltName?.split(', ').find((name) => name.startsWith(prefix));
    if (!uri) {
      throw new EventRejectedError(
        'untrusted_producer',
        `certificate names no service of ${this.trustDomain}`,
      );
    }
    return uri.slice('URI:'.length);
  }
}

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
  }
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  throw new EventRejectedError('bad_signature', `no event signature for this key type`);
}

function hashOf(alg: string): string {
  return alg === 'ES384' ? 'sha384' : 'sha256';
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(part: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function isPayload(payload: Partial<EventPayload> | undefined): payload is EventPayload {
  return (
    payload !== undefined &&
    typeof payload.id === 'string' &&
    payload.id.length > 0 &&
    payload.id.length <= 128 &&
    typeof payload.type === 'string' &&
    Number.isInteger(payload.iat) &&
    Number.isInteger(payload.exp) &&
    (payload.actor === undefined || typeof payload.actor === 'string') &&
    (payload.requestId === undefined || typeof payload.requestId === 'string') &&
    isTraceCarrier(payload) &&
    'data' in payload
  );
}
