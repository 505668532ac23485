import { createPrivateKey, sign } from 'node:crypto';
import {
  EVENT_LIFETIME_SECONDS,
  EventRejectedError,
  EventSigner,
  EventVerifier,
} from './signed-event';
import type { EventRejection } from './signed-event';
import { createCertificateAuthority, issueServiceCertificate } from './testing/dev-pki';
import type { CertificateAuthority, IssuedCertificate } from './testing/dev-pki';

const DOMAIN = 'acme.test';
const TYPE = 'events.payment.completed';
const CLAIMS = { id: 'evt-1', type: TYPE, actor: 'user-1', requestId: 'req-1' };
const DATA = { orderId: 'o-1', paymentId: 'p-1' };

function rejection(run: () => unknown): EventRejection | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof EventRejectedError) return error.reason;
    throw error;
  }
  return undefined;
}

function part(jws: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[index], 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

function withPart(jws: string, index: number, value: unknown): string {
  const parts = jws.split('.');
  parts[index] = Buffer.from(JSON.stringify(value)).toString('base64url');
  return parts.join('.');
}

describe(EventVerifier.name, () => {
  let ca: CertificateAuthority;
  let payment: IssuedCertificate;
  let verifier: EventVerifier;
  let signer: EventSigner;

  beforeAll(async () => {
    ca = await createCertificateAuthority('events test CA');
    payment = await issueServiceCertificate(ca, 'payment', DOMAIN);
    signer = new EventSigner({
      cert: Buffer.from(payment.certPem),
      key: Buffer.from(payment.keyPem),
    });
    verifier = new EventVerifier(ca.certPem, DOMAIN);
  });

  /** Header and payload (base64url) signed with payment's key, as a producer would sign them. */
  function signedParts(header: string, payload: string): string {
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
      key: createPrivateKey(payment.keyPem),
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }

  it("accepts an event signed with a service's certificate key and names the producer", () => {
    const event = verifier.verify(signer.sign(CLAIMS, DATA), TYPE);
    expect(event).toMatchObject({
      ...CLAIMS,
      producer: `spiffe://${DOMAIN}/payment`,
      data: DATA,
    });
    expect(event.expiresAt - event.issuedAt).toBe(EVENT_LIFETIME_SECONDS);
  });

  it('carries no bearer token: only the declared claims and the data', () => {
    const payload = part(signer.sign(CLAIMS, DATA), 1);
    expect(Object.keys(payload).sort()).toEqual(
      ['actor', 'data', 'exp', 'iat', 'id', 'requestId', 'type'].sort(),
    );
  });

  it('carries the trace context of the publishing span', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const event = verifier.verify(signer.sign({ ...CLAIMS, traceparent }, DATA), TYPE);
    expect(event.traceparent).toBe(traceparent);
  });

  it('refuses an unsigned event', () => {
    expect(rejection(() => verifier.verify(JSON.stringify({ ...CLAIMS, data: DATA }), TYPE))).toBe(
      'unsigned',
    );
  });

  it('refuses a certificate in x5c that is not a base64 string (RFC 7515 4.1.6)', () => {
    const jws = signer.sign(CLAIMS, DATA);
    const [, payload] = jws.split('.');
    const der = Buffer.from((part(jws, 0)['x5c'] as string[])[0], 'base64');
    const header = Buffer.from(JSON.stringify({ ...part(jws, 0), x5c: [der.toJSON()] })).toString(
      'base64url',
    );
    expect(rejection(() => verifier.verify(signedParts(header, payload), TYPE))).toBe('unsigned');
  });

  it('refuses an event whose data was changed after signing', () => {
    const jws = signer.sign(CLAIMS, DATA);
    const payload = part(jws, 1);
    const tampered = withPart(jws, 1, { ...payload, data: { ...DATA, paymentId: 'p-evil' } });
    expect(rejection(() => verifier.verify(tampered, TYPE))).toBe('bad_signature');
  });

  it('refuses an event whose signature was stripped (alg none)', () => {
    const jws = signer.sign(CLAIMS, DATA);
    const none = withPart(jws, 0, { ...part(jws, 0), alg: 'none' });
    expect(
      rejection(() => verifier.verify(`${none.split('.').slice(0, 2).join('.')}.`, TYPE)),
    ).toBe('bad_signature');
  });

  it('refuses an event signed by a certificate of another CA', async () => {
    const foreign = await createCertificateAuthority('foreign CA');
    const impostor = await issueServiceCertificate(foreign, 'payment', DOMAIN);
    const jws = new EventSigner({
      cert: Buffer.from(impostor.certPem),
      key: Buffer.from(impostor.keyPem),
    }).sign(CLAIMS, DATA);
    expect(rejection(() => verifier.verify(jws, TYPE))).toBe('untrusted_producer');
  });

  it("refuses an event whose x5c is swapped for another service's certificate", async () => {
    const order = await issueServiceCertificate(ca, 'order', DOMAIN);
    const jws = signer.sign(CLAIMS, DATA);
    const der = order.certPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
    const swapped = withPart(jws, 0, { ...part(jws, 0), x5c: [der] });
    expect(rejection(() => verifier.verify(swapped, TYPE))).toBe('bad_signature');
  });

  it('refuses a certificate of another trust domain', async () => {
    const stranger = await issueServiceCertificate(ca, 'payment', 'other.test');
    const jws = new EventSigner({
      cert: Buffer.from(stranger.certPem),
      key: Buffer.from(stranger.keyPem),
    }).sign(CLAIMS, DATA);
    expect(rejection(() => verifier.verify(jws, TYPE))).toBe('untrusted_producer');
  });

  it('refuses an expired certificate', async () => {
    const expired = await issueServiceCertificate(ca, 'payment', DOMAIN, {
      notBefore: new Date(Date.now() - 2 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const jws = new EventSigner({
      cert: Buffer.from(expired.certPem),
      key: Buffer.from(expired.keyPem),
    }).sign(CLAIMS, DATA);
    expect(rejection(() => verifier.verify(jws, TYPE))).toBe('untrusted_producer');
  });

  it('checks the signature of every event, by a certificate it has seen before too', async () => {
    const seen = new EventVerifier(ca.certPem, DOMAIN);
    const jws = signer.sign(CLAIMS, DATA);
    expect(seen.verify(jws, TYPE).producer).toBe(`spiffe://${DOMAIN}/payment`);
    const tampered = withPart(jws, 1, { ...part(jws, 1), actor: 'user-evil' });
    expect(rejection(() => seen.verify(tampered, TYPE))).toBe('bad_signature');
    const order = await issueServiceCertificate(ca, 'order', DOMAIN);
    const orderSigner = new EventSigner({
      cert: Buffer.from(order.certPem),
      key: Buffer.from(order.keyPem),
    });
    const orderHeader = part(orderSigner.sign(CLAIMS, DATA), 0);
    expect(seen.verify(orderSigner.sign(CLAIMS, DATA), TYPE).producer).toContain('/order');
    expect(rejection(() => seen.verify(withPart(jws, 0, orderHeader), TYPE))).toBe('bad_signature');
  });

  it('refuses a certificate it has seen once that certificate is no longer valid', async () => {
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 3_600_000);
    const shortLived = await issueServiceCertificate(ca, 'payment', DOMAIN, {
      notBefore,
      notAfter,
    });
    const shortSigner = new EventSigner({
      cert: Buffer.from(shortLived.certPem),
      key: Buffer.from(shortLived.keyPem),
    });
    const seen = new EventVerifier(ca.certPem, DOMAIN);
    expect(seen.verify(shortSigner.sign(CLAIMS, DATA), TYPE).id).toBe(CLAIMS.id);
    // X.509 validity has whole seconds: a second past either end is outside it.
    const after = notAfter.getTime() + 1_000;
    const late = shortSigner.sign(CLAIMS, DATA, after - 60_000);
    expect(rejection(() => seen.verify(late, TYPE, after))).toBe('untrusted_producer');
    const before = notBefore.getTime() - 1_000;
    const early = shortSigner.sign(CLAIMS, DATA, before);
    expect(rejection(() => seen.verify(early, TYPE, before))).toBe('untrusted_producer');
  });

  it('refuses an expired event, and one signed in the future', () => {
    const old = signer.sign(CLAIMS, DATA, Date.now() - (EVENT_LIFETIME_SECONDS + 1) * 1000);
    expect(rejection(() => verifier.verify(old, TYPE))).toBe('expired');
    const future = signer.sign(CLAIMS, DATA, Date.now() + 10 * 60_000);
    expect(rejection(() => verifier.verify(future, TYPE))).toBe('expired');
  });

  it('refuses an event that arrived on another subject than its type', () => {
    const jws = signer.sign(CLAIMS, DATA);
    expect(rejection(() => verifier.verify(jws, 'events.payment.refunded'))).toBe('wrong_type');
  });

  it('refuses claims that are not an event', () => {
    const jws = signer.sign(CLAIMS, DATA);
    const header = jws.split('.')[0];
    const payload = Buffer.from(JSON.stringify({ type: TYPE, data: DATA })).toString('base64url');
    expect(rejection(() => verifier.verify(signedParts(header, payload), TYPE))).toBe('malformed');
  });
});
