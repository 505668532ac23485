/** The parts of an OpenID Provider's metadata (OIDC Discovery 1.0) this library uses. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string;
  /** RFC 8705 5: where a client authenticating with its certificate sends token requests. */
  mtls_endpoint_aliases?: { token_endpoint?: string };
}

/** Thrown by {@link getJson} for a non-2xx answer. */
class HttpStatusError extends Error {
  constructor(
    url: string,
    readonly status: number,
  ) {
    super(`${url} answered ${status}`);
  }
}

/**
 * Fetches `<issuer>/.well-known/openid-configuration` (OIDC Discovery), or
 * where there is none `<issuer>/.well-known/oauth-authorization-server` (RFC
 * 8414, as Okta's authorization servers also publish it), and checks that it
 * describes that exact issuer (a mismatch would let another issuer's keys in).
 * Auth0's issuer ends with a slash, which is not doubled.
 */
export async function discoverIssuer(
  issuer: string,
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<IssuerMetadata> {
  const base = issuer.replace(/\/$/, '');
  let metadata: Record<string, unknown>;
  try {
    metadata = await getJson(`${base}/.well-known/openid-configuration`, fetchFn, timeoutMs);
  } catch (error) {
    if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
    metadata = await getJson(`${base}/.well-known/oauth-authorization-server`, fetchFn, timeoutMs);
  }
  if (metadata['issuer'] !== issuer) {
    throw new Error(`discovery names issuer ${String(metadata['issuer'])}, expected ${issuer}`);
  }
  if (typeof metadata['jwks_uri'] !== 'string') throw new Error('discovery has no jwks_uri');
  // An https issuer must not send its keys, or take client secrets, over cleartext.
  const aliases = metadata['mtls_endpoint_aliases'];
  if (aliases !== undefined && (typeof aliases !== 'object' || aliases === null)) {
    throw new Error('discovery has a malformed mtls_endpoint_aliases');
  }
  const mtlsTokenEndpoint = (aliases as Record<string, unknown> | undefined)?.['token_endpoint'];
  if (mtlsTokenEndpoint !== undefined && typeof mtlsTokenEndpoint !== 'string') {
    throw new Error('discovery has a malformed mtls_endpoint_aliases.token_endpoint');
  }
  for (const name of ['jwks_uri', 'token_endpoint']) {
    const url = metadata[name];
    if (typeof url === 'string' && base.startsWith('https:') && !url.startsWith('https:')) {
      throw new Error(`discovery names a cleartext ${name}: ${url}`);
    }
  }
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
  if (!response.ok) throw new HttpStatusError(url, response.status);
  return (await response.json()) as Record<string, unknown>;
}
