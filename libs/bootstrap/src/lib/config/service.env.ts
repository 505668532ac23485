import type { z } from 'zod';
import { runtimeEnv } from './runtime.env';
import { tokenVerificationEnv } from './token-verification.env';
import { transportSecurityEnv } from './transport-security.env';

/** Keys every service shares: its runtime mode, its TLS material, and how it verifies tokens. */
export function serviceEnv(service: string) {
  return {
    ...runtimeEnv(),
    ...transportSecurityEnv(service),
    ...tokenVerificationEnv(),
  };
}

export type ServiceEnv = z.infer<z.ZodObject<ReturnType<typeof serviceEnv>>>;
