import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { InsufficientScopeException } from '../auth.errors';
import { getPrincipal } from '../context/principal.context';
import { handlerRules } from '../decorators/auth-metadata';
import { TracedGuard } from '@acme/telemetry';

/** Enforces `@Roles(...)`: any of the roles by default, all of them with `{ all }`. */
@TracedGuard()
@Injectable()
export class RolesGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const required = handlerRules(context).roles;
    if (!required) return true;
    const roles = getPrincipal(context)?.roles ?? [];
    const granted =
      required.match === 'all'
        ? required.roles.every((role) => roles.includes(role))
        : required.roles.some((role) => roles.includes(role));
    if (!granted) {
      throw new InsufficientScopeException(
        `requires ${required.match} of roles: ${required.roles.join(', ')}`,
        'role',
      );
    }
    return true;
  }
}
