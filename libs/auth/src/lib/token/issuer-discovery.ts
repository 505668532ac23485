/** The parts of an OpenID Provider's metadata (OIDC Discovery 1.0) this library uses. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string;
}

/**
 * Fetches `<issuer>/.well-known/openid-configuration` and checks that it
 * describes that exact issuer (a mismatch would let another issuer's keys in).
 */
export async function discoverIssuer(
  issuer: string,
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<IssuerMetadata> {
  const metadata = await getJson(
    `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    fetchFn,
    timeoutMs,
  );
  if (metadata['issuer'] !== issuer) {
    throw new Error(`discovery names issuer ${String(metadata['issuer'])}, expected ${issuer}`);
  }
  if (typeof metadata['jwks_uri'] !== 'string') throw new Error('discovery has no jwks_uri');
  return metadata as unknown as IssuerMetadata;
}

export async function getJson(
  url: string,
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const response = await fetchFn(url, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}
