import { HttpException } from '@nestjs/common';
import type { ExecutionContext, Type } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { TcpSocket } from '@nestjs/microservices';
import { EventContext, MessageContext } from '@acme/transport';
import type { MessageMeta, VerifiedEvent } from '@acme/transport';
import type { Socket } from 'node:net';
import { DEFAULT_AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { setRpcPrincipal } from '../context/principal.context';
import type { Principal } from '../principal';
import { AccessTokenVerifier } from '../token/access-token.verifier';
import { JwksCache } from '../token/jwks.cache';
import type { TestIssuer } from './test-issuer';

// What the guards' specs hand a guard: no server, no socket, the same context Nest builds.

/** The context of an HTTP request for `controller[handler]`; `request` adds to an empty one (a `user` as JwtAuthGuard sets it). */
export function httpContext<T>(
  controller: Type<T>,
  handler: keyof T & string,
  request: Record<string, unknown> = {},
): ExecutionContext {
  const context = new ExecutionContextHost(
    [{ headers: {}, params: {}, query: {}, body: undefined, ...request }, {}, () => undefined],
    controller,
    controller.prototype[handler] as () => unknown,
  );
  context.setType('http');
  return context;
}

/** The context of a message for `controller[handler]`: its payload, metadata, socket, and the principal JwtAuthGuard would have set. */
export function rpcContext<T>(
  controller: Type<T>,
  handler: keyof T & string,
  message: { data?: unknown; meta?: MessageMeta; socket?: Socket; principal?: Principal } = {},
): ExecutionContext {
  const messageContext = new MessageContext(
    { socket: message.socket } as TcpSocket,
    `test.${handler}`,
    message.meta ?? {},
  );
  const context = new ExecutionContextHost(
    [message.data ?? {}, messageContext],
    controller,
    controller.prototype[handler] as () => unknown,
  );
  context.setType('rpc');
  if (message.principal) setRpcPrincipal(context, message.principal);
  return context;
}

/** The context of a broker event, its signature taken as verified, for `controller[handler]`. */
export function eventContext<T>(
  controller: Type<T>,
  handler: keyof T & string,
  event: Partial<VerifiedEvent> & Pick<VerifiedEvent, 'producer'>,
): ExecutionContext {
  const verified: VerifiedEvent = {
    id: 'event-1',
    type: 'events.test.happened',
    issuedAt: 0,
    expiresAt: 0,
    data: {},
    ...event,
  };
  const context = new ExecutionContextHost(
    [verified.data, new EventContext(verified)],
    controller,
    controller.prototype[handler] as () => unknown,
  );
  context.setType('rpc');
  return context;
}

/** Runs a guard that must refuse, and returns the HTTP exception it threw. */
export function refusal(action: () => unknown): HttpException {
  try {
    action();
  } catch (error) {
    if (error instanceof HttpException) return error;
    throw error;
  }
  throw new Error('the guard let the call through');
}

/** Runs a guard that must refuse, at once or asynchronously, and returns the HTTP exception it refused with. */
export async function rejection(action: () => unknown): Promise<HttpException> {
  const error = await new Promise((resolve) => resolve(action())).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof HttpException) return error;
  throw error ?? new Error('the guard let the call through');
}

/** The verifier a service named `order` would have for the test issuer's tokens. */
export function testVerifier(
  issuer: TestIssuer,
  audience: string,
  options: Partial<AuthOptions> = {},
): AccessTokenVerifier {
  const auth = {
    ...DEFAULT_AUTH_OPTIONS,
    issuer: issuer.issuer,
    audience,
    serviceName: 'order',
    trustDomain: 'acme.internal',
    jwksCooldownMs: 1_000,
    ...options,
  };
  const jwks = new JwksCache({
    issuer: issuer.issuer,
    cooldownMs: auth.jwksCooldownMs,
    maxAgeMs: 60_000,
    timeoutMs: 2_000,
  });
  return new AccessTokenVerifier(auth, jwks);
}
