import { SpanKind } from '@opentelemetry/api';
import { isTracingEnabled, traced } from './spans';

type GuardClass = abstract new (...args: never[]) => {
  canActivate(...args: never[]): boolean | Promise<boolean> | unknown;
};

/**
 * Records each decision of a guard as a span `guard <ClassName>`, with
 * `acme.guard.decision` = `allow` or `deny` (a `false` or a throw, whose
 * message becomes the span's status). Without tracing it adds one branch.
 *
 * @example
 * @TracedGuard()
 * @Injectable()
 * export class RolesGuard implements CanActivate { ... }
 */
export function TracedGuard(): <T extends GuardClass>(target: T) => void {
  return (target) => {
    const canActivate = target.prototype.canActivate as (...args: unknown[]) => unknown;
    const name = `guard ${target.name}`;
    Object.defineProperty(target.prototype, 'canActivate', {
      configurable: true,
      writable: true,
      value: function tracedCanActivate(this: unknown, ...args: unknown[]) {
        if (!isTracingEnabled()) return canActivate.apply(this, args);
        return traced(
          name,
          (span) => {
            const decide = (allowed: unknown) => {
              span?.setAttribute('acme.guard.decision', allowed === false ? 'deny' : 'allow');
              return allowed;
            };
            try {
              const result = canActivate.apply(this, args);
              return result instanceof Promise ? result.then(decide, deny(span)) : decide(result);
            } catch (error) {
              return deny(span)(error);
            }
          },
          { kind: SpanKind.INTERNAL },
        );
      },
    });
  };
}

function deny(span: { setAttribute(key: string, value: string): unknown } | undefined) {
  return (error: unknown): never => {
    span?.setAttribute('acme.guard.decision', 'deny');
    throw error;
  };
}
