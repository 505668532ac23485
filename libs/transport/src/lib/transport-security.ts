import type { SecureVersion } from 'node:tls';
import type { TlsMaterial } from './tls-material';

/**
 * Who secures the connections between services:
 * - `mtls`: this process, with mutual TLS and its own certificate (the default);
 * - `mesh`: a service mesh (Istio, Linkerd), whose sidecars do mutual TLS
 *   between pods and authorize the calling service; the hop between the
 *   sidecar and this process, inside the pod, is plaintext;
 * - `benchmark-insecure`: nobody, only to measure what security costs
 *   (`BENCH_INSECURE`, refused outside `NODE_ENV=benchmark`).
 */
export type TransportSecurity =
  | { mode: 'mtls'; tls: TlsMaterial; minVersion: SecureVersion }
  | { mode: 'mesh' }
  | { mode: 'benchmark-insecure' };
