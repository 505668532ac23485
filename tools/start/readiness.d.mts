// Types of readiness.mjs, for its TypeScript spec and any workspace tsconfig that includes tools/.
import type { ConnectionOptions } from 'node:tls';

export declare const PROBES: Readonly<Record<string, { listening: string; ready?: string }>>;

export declare function probesFor(apps: readonly string[]): Record<string, string>[];

export declare function probe(
  target: string,
  options?: { timeoutMs?: number; tls?: ConnectionOptions },
): Promise<string | undefined>;

export declare function waitUntilReady(
  stages: readonly Record<string, string>[],
  options?: {
    intervalMs?: number;
    signal?: AbortSignal;
    tls?: ConnectionOptions;
    onPending?: (pending: Record<string, string>) => void;
  },
): Promise<void>;

export declare function readyLine(apps: readonly string[]): string;
