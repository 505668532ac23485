import { Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { InsufficientScopeException } from '../auth.errors';
import { AUTH_OPTIONS, DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { setClientNetworks } from '../context/client-networks.context';
import { Policy } from '../decorators/auth.decorators';
import { AuthorizedResource } from '../policy/authorized-resource';
import { anyOf, hasRole, isOwner, isService } from '../policy/policy';
import type { ResourceOwnerLoader } from '../policy/policy';
import type { Principal } from '../principal';
import {
  httpContext as http,
  rejection,
  rpcContext as rpc,
  testVerifier,
} from '../testing/guard-contexts';
import { TestIssuer } from '../testing/test-issuer';
import type { AccessTokenVerifier } from '../token/access-token.verifier';
import { PolicyGuard } from './policy.guard';

const AUDIENCE = 'urn:acme:orders';

/** Who owns each order: order id -> user id. */
interface StoredOrder {
  id: string;
  ownerId: string;
}

@Injectable()
class OrderOwnerLoader implements ResourceOwnerLoader<StoredOrder> {
  private readonly orders = new Map([['order-1', { id: 'order-1', ownerId: 'alice' }]]);

  load(input: unknown): StoredOrder | undefined {
    return this.orders.get((input as { params: { id: string } }).params.id);
  }

  ownerOf(order: StoredOrder): string {
    return order.ownerId;
  }
}

/** Over RPC the policy sees the message payload. */
@Injectable()
class PayerLoader implements ResourceOwnerLoader<{ payerId: string }> {
  load(input: unknown): { payerId: string } | undefined {
    const { payerId } = input as { payerId?: string };
    return payerId === undefined ? undefined : { payerId };
  }

  ownerOf(charge: { payerId: string }): string {
    return charge.payerId;
  }
}

class OrdersController {
  list(): void {
    // no policy
  }

  @Policy(anyOf(hasRole('admin'), isOwner(OrderOwnerLoader)))
  find(): void {
    // the owner, or an admin
  }

  @Policy(anyOf(hasRole('admin', { from: 'admin' }), isOwner(OrderOwnerLoader)))
  remove(): void {
    // the owner from anywhere, or an admin from the admin network
  }

  @Policy(isService('gateway'))
  purge(): void {
    // only the gateway acting for itself
  }

  @Policy(isOwner(PayerLoader))
  charge(): void {
    // only for the payer's own token
  }
}

/** `GET /orders/:id` that `JwtAuthGuard` authenticated as `user`. */
const httpContext = (handler: keyof OrdersController & string, id: string, user?: Principal) =>
  http(OrdersController, handler, { params: { id }, user });

/** A message with payload `data` that `JwtAuthGuard` authenticated as `principal`. */
const rpcContext = (
  handler: keyof OrdersController & string,
  data: unknown,
  principal: Principal,
) => rpc(OrdersController, handler, { data, principal });

/** What `@AuthorizedResource()` injects into the handler of `context`. */
function authorizedResource(context: ExecutionContext): unknown {
  class Handler {
    handle(@AuthorizedResource() resource: unknown): unknown {
      return resource; // never called: only its parameter's metadata is read
    }
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Handler, 'handle') as Record<
    string,
    { factory: (data: unknown, context: ExecutionContext) => unknown }
  >;
  return Object.values(args)[0].factory(undefined, context);
}

describe(PolicyGuard.name, () => {
  let guard: PolicyGuard;
  let ownerLoader: OrderOwnerLoader;
  let issuer: TestIssuer;
  let verifier: AccessTokenVerifier;

  const user = (sub: string, roles = ['user']) => verifier.verify(issuer.userToken(sub, { roles }));
  const service = (clientId: string) => verifier.verify(issuer.serviceToken(clientId));

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    verifier = testVerifier(issuer, AUDIENCE);
    const moduleRef = await Test.createTestingModule({
      providers: [
        PolicyGuard,
        OrderOwnerLoader,
        PayerLoader,
        { provide: AUTH_OPTIONS, useValue: { ...DEFAULT_AUTH_OPTIONS, trustDomain: 'acme.test' } },
      ],
    }).compile();
    guard = moduleRef.get(PolicyGuard);
    ownerLoader = moduleRef.get(OrderOwnerLoader);
  });

  afterAll(() => issuer.stop());

  afterEach(() => jest.restoreAllMocks());

  it('lets any call through a handler without a policy', () => {
    expect(guard.canActivate(httpContext('list', 'order-1'))).toBe(true);
  });

  describe('@Policy(anyOf(hasRole(admin), isOwner(OrderOwnerLoader)))', () => {
    it('lets the owner of the order through, and hands the handler the order it loaded', async () => {
      const context = httpContext('find', 'order-1', await user('alice'));

      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(authorizedResource(context)).toEqual({ id: 'order-1', ownerId: 'alice' });
    });

    it('returns 403 when the caller neither owns the order nor is admin', async () => {
      const bob = await user('bob');

      const denied = await rejection(() => guard.canActivate(httpContext('find', 'order-1', bob)));

      expect(denied.getResponse()).toEqual({
        statusCode: 403,
        error: 'insufficient_scope',
        message: "requires (hasRole('admin') or isOwner(OrderOwnerLoader))",
      });
    });

    it('lets an admin through without loading the order', async () => {
      const load = jest.spyOn(ownerLoader, 'load');

      const context = httpContext('find', 'order-1', await user('carol', ['admin']));

      expect(guard.canActivate(context)).toBe(true);
      expect(load).not.toHaveBeenCalled();
      expect(authorizedResource(context)).toBeUndefined();
    });

    it('returns 404 when the order does not exist', async () => {
      const bob = await user('bob');

      expect(
        (
          await rejection(() => guard.canActivate(httpContext('find', 'order-404', bob)))
        ).getStatus(),
      ).toBe(404);
    });

    it('never treats a service as the owner, even when its subject equals the owner id', async () => {
      const impostor = await verifier.verify(
        issuer.sign({ claims: { sub: 'alice', client_id: 'alice' } }),
      );
      expect(impostor).toMatchObject({ kind: 'service', subject: 'alice' });

      expect(
        (
          await rejection(() => guard.canActivate(httpContext('find', 'order-1', impostor)))
        ).getStatus(),
      ).toBe(403);
    });
  });

  describe("@Policy(anyOf(hasRole('admin', { from: 'admin' }), isOwner(OrderOwnerLoader)))", () => {
    const removal = async (sub: string, roles: string[], networks?: string[]) => {
      const context = httpContext('remove', 'order-1', await user(sub, roles));
      if (networks) setClientNetworks(context.switchToHttp().getRequest(), networks);
      return context;
    };

    it("lets an admin act on another user's order from the admin network", async () => {
      expect(guard.canActivate(await removal('bob', ['admin'], ['admin']))).toBe(true);
    });

    it('returns 403 to the same admin from anywhere else', async () => {
      await expect(guard.canActivate(await removal('bob', ['admin'], ['office']))).rejects.toThrow(
        "requires (hasRole('admin', { from: 'admin' }) or isOwner(OrderOwnerLoader))",
      );
      await expect(guard.canActivate(await removal('bob', ['admin']))).rejects.toThrow(
        InsufficientScopeException,
      );
      await expect(guard.canActivate(await removal('bob', ['admin']))).rejects.toMatchObject({
        reason: 'policy',
      });
    });

    it('lets the owner through from anywhere', async () => {
      await expect(guard.canActivate(await removal('alice', ['user']))).resolves.toBe(true);
    });
  });

  describe("@Policy(isService('gateway'))", () => {
    it('lets the named service, acting for itself, through', async () => {
      // A rule that needs nothing loaded decides at once: no promise.
      expect(guard.canActivate(httpContext('purge', 'order-1', await service('gateway')))).toBe(
        true,
      );
    });

    it('returns 403 to another service', async () => {
      const payment = await service('payment');

      expect(
        (
          await rejection(() => guard.canActivate(httpContext('purge', 'order-1', payment)))
        ).getStatus(),
      ).toBe(403);
    });

    it('returns 403 to a user of that client', async () => {
      const viaGateway = await verifier.verify(
        issuer.sign({ claims: { sub: 'alice', client_id: 'gateway' } }),
      );

      expect(
        (
          await rejection(() => guard.canActivate(httpContext('purge', 'order-1', viaGateway)))
        ).getStatus(),
      ).toBe(403);
    });
  });

  it('evaluates the policy against the message payload over RPC', async () => {
    const alice = await user('alice');

    await expect(
      guard.canActivate(rpcContext('charge', { payerId: 'alice' }, alice)),
    ).resolves.toBe(true);
    expect(
      (
        await rejection(() => guard.canActivate(rpcContext('charge', { payerId: 'bob' }, alice)))
      ).getStatus(),
    ).toBe(403);
  });

  it('returns 401 when no principal was set', async () => {
    expect(
      (await rejection(() => guard.canActivate(httpContext('find', 'order-1')))).getStatus(),
    ).toBe(401);
  });
});
