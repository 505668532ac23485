import { AccessTokenVerifier, DEFAULT_AUTH_OPTIONS, JwksCache } from '@acme/auth';
import type { TestIssuer } from '@acme/auth/testing';
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

/** Mean cost of each step of token verification, with the verifier the services use. */
export async function benchVerification(
  issuer: TestIssuer,
  audience: string,
  iterations: number,
): Promise<VerificationResult> {
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
      tokenCacheSize: 100_000,
    },
    jwks,
  );
  await jwks.refresh();
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

/** Mean CPU microseconds of `step` over `items`, run one after another. */
async function cpuMicrosEach<T>(
  items: readonly T[],
  step: (item: T) => Promise<unknown>,
): Promise<number> {
  const started = process.cpuUsage();
  for (const item of items) await step(item);
  const { user, system } = process.cpuUsage(started);
  return (user + system) / items.length;
}

/** Mean wall-clock milliseconds of `step` over `items`: for steps that wait on I/O. */
async function wallMillisEach<T>(
  items: readonly T[],
  step: (item: T) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  for (const item of items) await step(item);
  return (performance.now() - started) / items.length;
}
