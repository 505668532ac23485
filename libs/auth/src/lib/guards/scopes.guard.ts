import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { InsufficientScopeException } from '../auth.errors';
import { getPrincipal } from '../context/principal.context';
import { handlerRules } from '../decorators/auth-metadata';
import { TracedGuard } from '@acme/telemetry';

/** Enforces `@Scopes(...)`: the token must grant every listed scope. */
@TracedGuard()
@Injectable()
export class ScopesGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const required = handlerRules(context).scopes;
    if (!required) return true;
    const scopes = getPrincipal(context)?.scopes ?? [];
    const missing = required.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      throw new InsufficientScopeException(`requires scope: ${missing.join(' ')}`);
    }
    return true;
  }
}
