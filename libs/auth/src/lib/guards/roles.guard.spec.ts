import { Roles } from '../decorators/auth.decorators';
import type { Principal } from '../principal';
import {
  httpContext as http,
  refusal,
  rpcContext as rpc,
  testVerifier,
} from '../testing/guard-contexts';
import { TestIssuer } from '../testing/test-issuer';
import type { AccessTokenVerifier } from '../token/access-token.verifier';
import { RolesGuard } from './roles.guard';

const AUDIENCE = 'urn:acme:orders';

@Roles('admin')
class OrdersController {
  list(): void {
    // no rule of its own: the class rule applies
  }

  @Roles('user', 'admin')
  find(): void {
    // either role
  }

  @Roles({ all: ['user', 'auditor'] })
  audit(): void {
    // both roles
  }
}

class HealthController {
  check(): void {
    // no rule at all
  }
}

/** An HTTP request to `OrdersController[handler]` that `JwtAuthGuard` authenticated as `user`. */
const httpContext = (handler: keyof OrdersController & string, user?: Principal) =>
  http(OrdersController, handler, { user });

/** A message to `OrdersController[handler]` that `JwtAuthGuard` authenticated as `principal`. */
const rpcContext = (handler: keyof OrdersController & string, principal?: Principal) =>
  rpc(OrdersController, handler, { principal });

describe(RolesGuard.name, () => {
  const guard = new RolesGuard();
  let issuer: TestIssuer;
  let verifier: AccessTokenVerifier;

  const user = (roles: string[]) => verifier.verify(issuer.userToken('alice', { roles }));

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    verifier = testVerifier(issuer, AUDIENCE);
  });

  afterAll(() => issuer.stop());

  it('lets any call through a handler that requires no role', () => {
    expect(guard.canActivate(http(HealthController, 'check'))).toBe(true);
  });

  describe('@Roles(a, b): any of the roles', () => {
    it('lets a user with one of the roles through', async () => {
      expect(guard.canActivate(httpContext('find', await user(['user'])))).toBe(true);
    });

    it('returns 403 insufficient_scope to a user with none of them', async () => {
      const guest = await user(['guest']);

      const refused = refusal(() => guard.canActivate(httpContext('find', guest)));
      expect(refused.getResponse()).toEqual({
        statusCode: 403,
        error: 'insufficient_scope',
        message: 'requires any of roles: user, admin',
      });
      expect(refused).toMatchObject({ reason: 'role' });
    });
  });

  describe('@Roles({ all: [a, b] }): every role', () => {
    it('lets a user with all the roles through', async () => {
      expect(guard.canActivate(httpContext('audit', await user(['auditor', 'user'])))).toBe(true);
    });

    it('returns 403 to a user with only some of them', async () => {
      const auditor = await user(['auditor']);

      expect(
        refusal(() => guard.canActivate(httpContext('audit', auditor))).getResponse(),
      ).toMatchObject({
        statusCode: 403,
        message: 'requires all of roles: user, auditor',
      });
    });
  });

  it('applies the class rule to a handler without one, and the handler rule over the class rule', async () => {
    const plainUser = await user(['user']);

    expect(refusal(() => guard.canActivate(httpContext('list', plainUser))).getStatus()).toBe(403);
    expect(guard.canActivate(httpContext('find', plainUser))).toBe(true);
  });

  it('returns 403 to a service, which has no roles even when its token lists some', async () => {
    const service = await verifier.verify(
      issuer.sign({ claims: { sub: 'payment', client_id: 'payment', roles: ['user', 'admin'] } }),
    );

    expect(refusal(() => guard.canActivate(httpContext('find', service))).getStatus()).toBe(403);
  });

  it('returns 403 when no principal was set', () => {
    expect(refusal(() => guard.canActivate(httpContext('find'))).getStatus()).toBe(403);
  });

  describe('over RPC', () => {
    it('lets a message from a user with the role through', async () => {
      expect(guard.canActivate(rpcContext('find', await user(['admin'])))).toBe(true);
    });

    it('returns 403 for a message from a user without the role', async () => {
      const guest = await user(['guest']);

      expect(refusal(() => guard.canActivate(rpcContext('find', guest))).getStatus()).toBe(403);
    });

    it('returns 403 for a message with no principal', () => {
      expect(refusal(() => guard.canActivate(rpcContext('find'))).getStatus()).toBe(403);
    });
  });
});
