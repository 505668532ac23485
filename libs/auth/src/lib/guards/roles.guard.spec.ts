import { HttpException } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { TcpSocket } from '@nestjs/microservices';
import { MessageContext } from '@acme/transport';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { setRpcPrincipal } from '../context/principal.context';
import { Roles } from '../decorators/auth.decorators';
import type { Principal } from '../principal';
import { TestIssuer } from '../testing/test-issuer';
import { AccessTokenVerifier } from '../token/access-token.verifier';
import { JwksCache } from '../token/jwks.cache';
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

/** The context of an HTTP request to `OrdersController[handler]` that `JwtAuthGuard` authenticated as `user`. */
function httpContext(handler: keyof OrdersController, user?: Principal): ExecutionContext {
  const request = { user, headers: {}, params: {}, query: {} };
  const context = new ExecutionContextHost(
    [request, {}, () => undefined],
    OrdersController,
    OrdersController.prototype[handler],
  );
  context.setType('http');
  return context;
}

/** The context of a message to `OrdersController[handler]` that `JwtAuthGuard` authenticated as `principal`. */
function rpcContext(handler: keyof OrdersController, principal?: Principal): ExecutionContext {
  const message = new MessageContext({} as TcpSocket, 'orders.find', {}); // this guard never reads the socket
  const context = new ExecutionContextHost(
    [{}, message],
    OrdersController,
    OrdersController.prototype[handler],
  );
  context.setType('rpc');
  if (principal) setRpcPrincipal(context, principal);
  return context;
}

/** Runs a guard that must refuse, and returns the HTTP exception it threw. */
function refusal(action: () => unknown): HttpException {
  try {
    action();
  } catch (error) {
    if (error instanceof HttpException) return error;
    throw error;
  }
  throw new Error('the guard let the call through');
}

describe(RolesGuard.name, () => {
  const guard = new RolesGuard(new Reflector());
  let issuer: TestIssuer;
  let verifier: AccessTokenVerifier;

  const user = (roles: string[]) => verifier.verify(issuer.userToken('alice', { roles }));

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    verifier = new AccessTokenVerifier(
      {
        ...DEFAULT_AUTH_OPTIONS,
        issuer: issuer.issuer,
        audience: AUDIENCE,
        serviceName: 'order',
        trustDomain: 'acme.internal',
      },
      new JwksCache({
        issuer: issuer.issuer,
        cooldownMs: 1_000,
        maxAgeMs: 60_000,
        timeoutMs: 2_000,
      }),
    );
  });

  afterAll(() => issuer.stop());

  it('lets any call through a handler that requires no role', () => {
    const context = new ExecutionContextHost(
      [{ headers: {} }],
      HealthController,
      HealthController.prototype.check,
    );
    context.setType('http');

    expect(guard.canActivate(context)).toBe(true);
  });

  describe('@Roles(a, b): any of the roles', () => {
    it('lets a user with one of the roles through', async () => {
      expect(guard.canActivate(httpContext('find', await user(['user'])))).toBe(true);
    });

    it('returns 403 insufficient_scope to a user with none of them', async () => {
      const guest = await user(['guest']);

      expect(refusal(() => guard.canActivate(httpContext('find', guest))).getResponse()).toEqual({
        statusCode: 403,
        error: 'insufficient_scope',
        message: 'requires any of roles: user, admin',
      });
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
