import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { EventContext, MessageContext } from '@acme/transport';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions } from '../auth.options';
import { InvalidTokenException } from '../auth.errors';
import { incomingCall } from '../context/incoming-call';
import { setRpcPrincipal } from '../context/principal.context';
import { isPublicRoute } from '../decorators/auth-metadata';
import { nextDpopNonce } from '../http/http-sender-constraint';
import { authenticateWithPassport } from '../http/jwt.strategy';
import type { Principal } from '../principal';
import { AccessTokenVerifier, asInvalidTokenError } from '../token/access-token.verifier';
import { checkCertificateBinding } from '../token/certificate-binding';
import { TracedGuard } from '@acme/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';

// The scheme is case-insensitive (RFC 7235), as passport-jwt reads it over HTTP: a
// forwarded `bearer ...` header must verify on every hop.
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Authenticates every request and message unless the handler is `@Public()`.
 * HTTP goes through passport, with the passport-jwt strategy `JwtStrategy`; RPC
 * verifies the token that travelled in the message metadata. Both use the same
 * verifier. A certificate-bound token (RFC 8705) passes only over a mutual-TLS
 * connection with that certificate, and with `requireCertificateBoundTokens`
 * every message's token must be bound. A request or message whose token was
 * verified before is let through at once, without a promise.
 */
@TracedGuard()
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (isPublicRoute(context)) return true;
    const call = incomingCall(context);
    switch (call.kind) {
      case 'http':
        return this.authenticateRequest(context);
      case 'rpc': {
        const principal = call.event
          ? this.eventPrincipal(call.event)
          : this.verifyMessage(call.message);
        if (!(principal instanceof Promise)) {
          setRpcPrincipal(context, principal);
          return true;
        }
        return principal.then((verified) => {
          setRpcPrincipal(context, verified);
          return true;
        });
      }
      case 'unsupported':
        throw new InvalidTokenException('unsupported transport', 'transport');
    }
  }

  private authenticateRequest(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: Principal }>();
    const reply = http.getResponse<FastifyReply>();
    const admit = (principal: Principal): boolean => {
      request.user = principal;
      // The client's DPoP nonce is about to expire: its next proof takes this one.
      const nonce = nextDpopNonce.get(request);
      if (nonce) reply.header('DPoP-Nonce', nonce);
      return true;
    };
    const principal = authenticateWithPassport(request, reply, toInvalidTokenException);
    return principal instanceof Promise ? principal.then(admit) : admit(principal);
  }

  /**
   * An event's credential is its signature, verified before dispatch with the
   * producer's certificate: the principal is that service, with no scopes or
   * roles (an event grants nothing but who sent it, for `@AllowServices` and
   * `isService`).
   */
  private eventPrincipal(context: EventContext): Principal {
    const event = context.getEvent();
    const service = context.getProducerService(this.auth.trustDomain);
    if (!service) throw new InvalidTokenException('event of another trust domain', 'wrong_issuer');
    return {
      kind: 'service',
      subject: event.producer,
      clientId: event.producer,
      service,
      roles: [],
      scopes: [],
      tokenId: event.id,
      expiresAt: event.expiresAt,
      // The producer signed the event itself: no one acted through it.
      actors: [],
      claims: { actor: event.actor, requestId: event.requestId, type: event.type },
    };
  }

  private verifyMessage(message: MessageContext | undefined): Principal | Promise<Principal> {
    if (!message) throw new InvalidTokenException('unsupported transport', 'transport');
    const match = BEARER.exec(message.getMeta().authorization ?? '');
    if (!match) throw new InvalidTokenException();
    const bound = (principal: Principal): Principal => {
      // Behind a mesh the sidecar holds the peer's certificate: a bound token cannot be checked here.
      const peer =
        this.auth.peerIdentity === 'mesh' ? undefined : message.getPeerCertificateThumbprint();
      checkCertificateBinding(principal.claims, peer, this.auth.requireCertificateBoundTokens);
      return principal;
    };
    try {
      const principal = this.verifier.verify(match[1]);
      if (!(principal instanceof Promise)) return bound(principal);
      return principal.then(bound).catch((error: unknown) => {
        throw toInvalidTokenException(error);
      });
    } catch (error) {
      throw toInvalidTokenException(error);
    }
  }
}

function toInvalidTokenException(error: unknown): InvalidTokenException {
  if (error instanceof InvalidTokenException) return error;
  const invalid = asInvalidTokenError(error);
  return new InvalidTokenException(invalid.message, invalid.check);
}
