import { randomBytes, randomUUID } from 'node:crypto';
import {
  AccessTokenVerifier,
  DEFAULT_AUTH_OPTIONS,
  DpopNonces,
  DpopProofVerifier,
  JwksCache,
  MemoryReplayCache,
  TokenExchanger,
} from '@acme/auth';
import { createDpopKey, dpopProof, dpopThumbprint } from '@acme/auth/testing';
import type { TestIssuer } from '@acme/auth/testing';
import { EVENT_ROUTES } from '@acme/contracts';
import { EventSigner, EventVerifier } from '@acme/transport';
import type { TlsMaterial } from '@acme/transport';
import { metricValue } from '@acme/transport/testing';
import { performance } from 'node:perf_hooks';

/** Verification figures are CPU time per call: on a shared machine, wall time also counts other processes' turns. */
export interface VerificationResult {
  iterations: number;
  /** A token never seen before: header checks, signature, claims, then cached. */
  firstUs: { es256: number; rs256: number };
  /** A token verified before: a hash and a map lookup. */
  repeatUs: number;
  /** Fetching and parsing the issuer's JWKS over loopback HTTP (wall time). */
  jwksRefreshMs: number;
}

/** What a hop pays to exchange its caller's token for the callee's audience (RFC 8693). */
export interface ExchangeResult {
  /** A token exchanged before, still fresh: a hash and a map lookup (CPU). */
  hitUs: number;
  /** A new token: one round trip to the issuer over loopback mutual TLS, the issuer's signing included (wall time). */
  missMs: number;
}

/** What the gateway pays per request to check a DPoP proof (RFC 9449), as `AUTH_DPOP=required` does. */
export interface DpopProofResult {
  /** An ES256 proof: header checks, signature by its embedded key, claims, replay cache (memory). */
  proofUs: number;
  /** The same with server nonces on (`AUTH_DPOP_NONCE`): an HMAC more. */
  withNonceUs: number;
}

/** What an event on the broker costs its producer and its consumer (`@acme/events`). */
export interface SignedEventResult {
  /** The producer signs it with its certificate's key (CPU). */
  signUs: number;
  /** The consumer checks it: signature, claims, and its certificate, checked once per producer (CPU). */
  verifyUs: number;
  /** The same, the first event of a producer: its certificate parsed and checked against the CA (CPU). */
  verifyFirstUs: number;
}

/** The verifier's token cache (its default size) under a number of active users. */
export interface TokenCacheGrowth {
  users: number;
  cacheSize: number;
  /** Verifications measured: each of a user picked at random, every user equally likely. */
  requests: number;
  /** Share of those verifications answered from the cache. */
  hitRatio: number;
  /** Mean CPU per verification, hits and misses together. */
  cpuUs: number;
}

/** Mean cost of each step of token verification, with the verifier the services use. */
export async function benchVerification(
  issuer: TestIssuer,
  audience: string,
  iterations: number,
): Promise<VerificationResult> {
  const { jwks, verifier } = await verifierOf(issuer, audience, 100_000);
  const tokens = (rsa: boolean) =>
    Array.from({ length: iterations }, () => issuer.sign({ claims: { roles: ['user'] }, rsa }));
  const first = (list: string[]) => cpuMicrosEach(list, (token) => verifier.verify(token));

  await first(tokens(false)); // warm-up: JIT and key objects
  const es256 = await first(tokens(false));
  const rs256 = await first(tokens(true));
  const seen = tokens(false)[0];
  await verifier.verify(seen);
  const repeatUs = await cpuMicrosEach(
    Array.from({ length: iterations * 10 }, () => seen),
    (token) => verifier.verify(token),
  );
  const jwksRefreshMs = await wallMillisEach(
    Array.from({ length: Math.max(5, iterations / 20) }),
    () => jwks.refresh(),
  );
  return { iterations, firstUs: { es256, rs256 }, repeatUs, jwksRefreshMs };
}

/** The exchanger the services use, as the gateway's client over mutual TLS (bound tokens), against `issuer`. */
export async function benchExchange(
  issuer: TestIssuer,
  client: { clientId: string; clientSecret: string; tls: TlsMaterial },
  audience: string,
  iterations: number,
): Promise<ExchangeResult> {
  const exchanger = new TokenExchanger({ issuer: issuer.issuer, ...client, timeoutMs: 5_000 });
  const users = (count: number) =>
    Array.from({ length: count }, (_, i) => issuer.userToken(`exchange-user-${i}`));
  await wallMillisEach(users(20), (token) => exchanger.exchange(token, audience)); // warm-up
  const missMs = await wallMillisEach(users(Math.max(20, iterations / 10)), (token) =>
    exchanger.exchange(token, audience),
  );
  const [seen] = users(1);
  await exchanger.exchange(seen, audience);
  const hitUs = await cpuMicrosEach(
    Array.from({ length: iterations * 10 }, () => seen),
    (token) => exchanger.exchange(token, audience),
  );
  return { hitUs, missMs };
}

/**
 * CPU per DPoP proof checked, with the verifier the gateway uses: each proof new (its own
 * `jti`), signed beforehand so the client's signing is not counted. The replay cache is the
 * process's memory; with Redis, add one `SET NX` round trip (wall time, not CPU).
 */
export async function benchDpopProof(iterations: number): Promise<DpopProofResult> {
  const url = 'https://api.acme.example/api/orders';
  const accessToken = 'eyJ.bench.token';
  const key = createDpopKey();
  const proofs = (nonce?: string) =>
    Array.from({ length: iterations }, () =>
      dpopProof(key, { method: 'GET', url, accessToken, nonce }),
    );
  const verifierWith = (nonces?: DpopNonces) =>
    new DpopProofVerifier({
      algorithms: ['ES256'],
      maxAgeSec: 300,
      clockToleranceSec: 5,
      replayCache: new MemoryReplayCache(),
      nonces,
    });
  const check = (verifier: DpopProofVerifier) => (proof: string) =>
    verifier.verify({ proof, method: 'GET', url, accessToken, boundJkt: dpopThumbprint(key) });

  await cpuMicrosEach(proofs(), check(verifierWith())); // warm-up: JIT and key objects
  const proofUs = await cpuMicrosEach(proofs(), check(verifierWith()));
  const nonces = new DpopNonces(randomBytes(32), 300);
  const withNonceUs = await cpuMicrosEach(proofs(nonces.current()), check(verifierWith(nonces)));
  return { proofUs, withNonceUs };
}

/** Signing and checking events as the broker's producers and consumers do. */
export async function benchSignedEvent(
  producer: TlsMaterial,
  trustDomain: string,
  iterations: number,
): Promise<SignedEventResult> {
  const type = EVENT_ROUTES.paymentCompleted.subject;
  const signer = new EventSigner(producer);
  const sign = () =>
    signer.sign(
      { id: randomUUID(), type, actor: 'bench-user', requestId: randomUUID() },
      { orderId: randomUUID(), paymentId: randomUUID() },
    );
  const events = () => Array.from({ length: iterations }, sign);
  const verifier = new EventVerifier(producer.ca, trustDomain);
  const verify = (jws: string) => verifier.verify(jws, type);

  await cpuMicrosEach(events(), verify); // warm-up: JIT, and the producer's certificate
  const signUs = await cpuMicrosEach(Array.from({ length: iterations }), sign);
  const verifyUs = await cpuMicrosEach(events(), verify);
  const firstVerifiers = Array.from(
    { length: iterations },
    () => new EventVerifier(producer.ca, trustDomain),
  );
  const verifyFirstUs = await cpuMicrosEach(
    events().map((jws, i) => ({ jws, verifier: firstVerifiers[i] })),
    (item) => item.verifier.verify(item.jws, type),
  );
  return { signUs, verifyUs, verifyFirstUs };
}

/**
 * How the token cache holds up as active users outnumber it: `users` tokens, each verified
 * once to fill the cache, then `requests` verifications of users picked at random (uniform:
 * the worst case for any cache; real traffic favours its regulars).
 */
export async function benchTokenCacheGrowth(
  issuer: TestIssuer,
  audience: string,
  userCounts: readonly number[],
): Promise<TokenCacheGrowth[]> {
  const results: TokenCacheGrowth[] = [];
  for (const users of userCounts) {
    const { verifier } = await verifierOf(issuer, audience, DEFAULT_AUTH_OPTIONS.tokenCacheSize);
    const tokens = Array.from({ length: users }, (_, i) =>
      issuer.userToken(`active-user-${i}`, { expiresIn: 3_600 }),
    );
    for (const token of tokens) await verifier.verify(token);
    const random = seededRandom(users);
    const requests = Math.min(3 * users, 100_000);
    const picks = Array.from({ length: requests }, () => tokens[Math.floor(random() * users)]);
    const hits = () => metricValue('acme_token_cache_lookups_total', { result: 'hit' });
    const hitsBefore = await hits();
    const cpuUs = await cpuMicrosEach(picks, (token) => verifier.verify(token));
    results.push({
      users,
      cacheSize: DEFAULT_AUTH_OPTIONS.tokenCacheSize,
      requests,
      hitRatio: ((await hits()) - hitsBefore) / requests,
      cpuUs,
    });
  }
  return results;
}

async function verifierOf(
  issuer: TestIssuer,
  audience: string,
  tokenCacheSize: number,
): Promise<{ jwks: JwksCache; verifier: AccessTokenVerifier }> {
  const jwks = new JwksCache({
    issuer: issuer.issuer,
    cooldownMs: 30_000,
    maxAgeMs: 600_000,
    timeoutMs: 5_000,
  });
  const verifier = new AccessTokenVerifier(
    {
      ...DEFAULT_AUTH_OPTIONS,
      issuer: issuer.issuer,
      audience,
      serviceName: 'bench',
      trustDomain: 'acme.bench',
      tokenCacheSize,
    },
    jwks,
  );
  await jwks.refresh();
  return { jwks, verifier };
}

/** Mulberry32: the same picks in every run, so runs differ by the code, not by chance. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean CPU microseconds of `step` over `items`, run one after another. */
async function cpuMicrosEach<T>(items: readonly T[], step: (item: T) => unknown): Promise<number> {
  const started = process.cpuUsage();
  for (const item of items) await step(item);
  const { user, system } = process.cpuUsage(started);
  return (user + system) / items.length;
}

/** Mean wall-clock milliseconds of `step` over `items`: for steps that wait on I/O. */
async function wallMillisEach<T>(items: readonly T[], step: (item: T) => unknown): Promise<number> {
  const started = performance.now();
  for (const item of items) await step(item);
  return (performance.now() - started) / items.length;
}
