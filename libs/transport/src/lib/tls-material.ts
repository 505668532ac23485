import { readFileSync } from 'node:fs';

/** PEM-encoded key material of one service: the trust anchor, its certificate and its key. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * Reads a service's certificate, key and CA from files, the shape in which Docker
 * and Kubernetes mount secrets.
 *
 * @example
 * const material = readTlsMaterial({ caFile: '/run/secrets/ca.crt', certFile, keyFile });
 */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  return {
    ca: readFileSync(files.caFile),
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
  };
}
