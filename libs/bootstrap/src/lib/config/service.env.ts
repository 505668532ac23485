import type { z } from 'zod';
import { runtimeEnv } from './runtime.env';
import { serviceAudience } from './service-calls.env';
import { tokenVerificationEnv } from './token-verification.env';
import { transportSecurityEnv } from './transport-security.env';

/**
 * Keys every service shares: its runtime mode, its TLS material, and how it
 * verifies tokens, which must be addressed to `audience` (by default its own,
 * `urn:acme:<service>`).
 */
export function serviceEnv(service: string, audience = serviceAudience(service)) {
  return {
    ...runtimeEnv(),
    ...transportSecurityEnv(service),
    ...tokenVerificationEnv(audience),
  };
}

export type ServiceEnv = z.infer<z.ZodObject<ReturnType<typeof serviceEnv>>>;
