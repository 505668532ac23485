import { hash } from 'node:crypto';
import { currentCallMeta } from '@acme/transport';
import { CallSlot } from '../context/call-slot';

interface Digested {
  token: string;
  digest: string;
}

const lastDigest = new CallSlot<Digested>('last token digest');

/**
 * A token's SHA-256 (base64url): what the caches of verified and of exchanged tokens key it
 * by, so that neither holds a credential, and a DPoP proof's `ath`. A hop hashes its caller's
 * token to verify it, to check its proof and to exchange it for the next hop's audience:
 * within one call the later hashes are the first's, remembered on the call's metadata, which
 * holds the token anyway.
 *
 * @example
 * const key = `${tokenDigest(subjectToken)} ${audience}`;
 */
export function tokenDigest(token: string): string {
  const call = currentCallMeta();
  const last = call && lastDigest.get(call);
  if (last?.token === token) return last.digest;
  const digest = hash('sha256', token, 'base64url');
  if (call) lastDigest.set(call, { token, digest });
  return digest;
}
