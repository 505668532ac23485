import { HttpException } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { TcpSocket } from '@nestjs/microservices';
import { MessageContext } from '@acme/transport';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import { setRpcPrincipal } from '../context/principal.context';
import { Scopes } from '../decorators/auth.decorators';
import type { Principal } from '../principal';
import { TestIssuer } from '../testing/test-issuer';
import { AccessTokenVerifier } from '../token/access-token.verifier';
import { JwksCache } from '../token/jwks.cache';
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

/** The context of an HTTP request that `JwtAuthGuard` authenticated as `user`. */
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

/** The context of a message that `JwtAuthGuard` authenticated as `principal`. */
function rpcContext(handler: keyof OrdersController, principal: Principal): ExecutionContext {
  const message = new MessageContext({} as TcpSocket, 'orders.create', {}); // this guard never reads the socket
  const context = new ExecutionContextHost(
    [{}, message],
    OrdersController,
    OrdersController.prototype[handler],
  );
  context.setType('rpc');
  setRpcPrincipal(context, principal);
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

describe(ScopesGuard.name, () => {
  const guard = new ScopesGuard(new Reflector());
  let issuer: TestIssuer;
  let verifier: AccessTokenVerifier;

  const caller = (scope: string) => verifier.verify(issuer.userToken('alice', { scope }));

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
