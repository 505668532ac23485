import { Scopes } from '../decorators/auth.decorators';
import type { Principal } from '../principal';
import {
  httpContext as http,
  refusal,
  rpcContext as rpc,
  testVerifier,
} from '../testing/guard-contexts';
import { TestIssuer } from '../testing/test-issuer';
import type { AccessTokenVerifier } from '../token/access-token.verifier';
import { ScopesGuard } from './scopes.guard';

const AUDIENCE = 'urn:acme:orders';

class OrdersController {
  list(): void {
    // no scope required
  }

  @Scopes('orders:read', 'orders:write')
  create(): void {
    // both scopes
  }
}

/** An HTTP request that `JwtAuthGuard` authenticated as `user`. */
const httpContext = (handler: keyof OrdersController & string, user?: Principal) =>
  http(OrdersController, handler, { user });

/** A message that `JwtAuthGuard` authenticated as `principal`. */
const rpcContext = (handler: keyof OrdersController & string, principal: Principal) =>
  rpc(OrdersController, handler, { principal });

describe(ScopesGuard.name, () => {
  const guard = new ScopesGuard();
  let issuer: TestIssuer;
  let verifier: AccessTokenVerifier;

  const caller = (scope: string) => verifier.verify(issuer.userToken('alice', { scope }));

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    verifier = testVerifier(issuer, AUDIENCE);
  });

  afterAll(() => issuer.stop());

  it('lets any call through a handler that requires no scope', () => {
    expect(guard.canActivate(httpContext('list'))).toBe(true);
  });

  it('lets a token that grants every required scope through', async () => {
    expect(
      guard.canActivate(httpContext('create', await caller('orders:write profile orders:read'))),
    ).toBe(true);
  });

  it('returns 403 insufficient_scope naming the scopes the token lacks', async () => {
    const readOnly = await caller('orders:read');

    expect(refusal(() => guard.canActivate(httpContext('create', readOnly))).getResponse()).toEqual(
      {
        statusCode: 403,
        error: 'insufficient_scope',
        message: 'requires scope: orders:write',
      },
    );
  });

  it('reads scopes from an "scp" array too', async () => {
    const principal = await verifier.verify(
      issuer.sign({ claims: { scope: undefined, scp: ['orders:read', 'orders:write'] } }),
    );

    expect(guard.canActivate(httpContext('create', principal))).toBe(true);
  });

  it('does not match a scope by prefix', async () => {
    const broader = await caller('orders:read orders:write-all');

    expect(refusal(() => guard.canActivate(httpContext('create', broader))).getStatus()).toBe(403);
  });

  it('returns 403 when no principal was set', () => {
    expect(refusal(() => guard.canActivate(httpContext('create'))).getStatus()).toBe(403);
  });

  it('enforces the same rule on a message over RPC', async () => {
    const readOnly = await caller('orders:read');
    const readWrite = await caller('orders:read orders:write');

    expect(refusal(() => guard.canActivate(rpcContext('create', readOnly))).getStatus()).toBe(403);
    expect(guard.canActivate(rpcContext('create', readWrite))).toBe(true);
  });
});
