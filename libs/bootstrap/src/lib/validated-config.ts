import { ConfigModule } from '@nestjs/config';
import type { DynamicModule } from '@nestjs/common';

/**
 * `@nestjs/config` with the app's schema: global, environment only (no `.env`
 * file shared by every app), validated once at start-up.
 *
 * The validation runs as soon as the module file is imported. Its failure must
 * stop the app when it starts (Nest awaits this module then and reports every
 * bad key), not crash a test or a tool that only imports the module to read
 * its decorators.
 *
 * @example
 * imports: [validatedConfig(validateOrderEnv), ...]
 */
export function validatedConfig(
  validate: (env: Record<string, unknown>) => Record<string, unknown>,
): Promise<DynamicModule> {
  const module = ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate });
  module.catch(() => undefined);
  return module;
}
