import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Principal } from '../principal';
import { AccessTokenVerifier } from '../token/access-token.verifier';
import { HttpSenderConstraint, httpCredentialsOf } from './http-sender-constraint';
import type { HttpCredentials } from './http-sender-constraint';

export const JWT_STRATEGY = 'jwt';

/** No session, and the principal on `request.user`: what @nestjs/passport's AuthGuard asks of passport. */
const PASSPORT_OPTIONS = { session: false, property: 'user' } as const;

type Outcome = { principal: Principal } | { refusal: unknown };

/**
 * Runs passport with {@link JwtStrategy} over a request, as @nestjs/passport's `AuthGuard`
 * does, and answers as the strategy does: at once for a token verified before that needs no
 * proof of its sender, else with a promise. `AuthGuard` awaits through two async functions
 * and a promise of its own on every request, whichever way the strategy answers. A refusal
 * (the strategy's `fail`, or an error), as `toRefusal` maps it, is thrown at once or rejected.
 */
export function authenticateWithPassport(
  request: FastifyRequest,
  reply: FastifyReply,
  toRefusal: (reason: unknown) => unknown,
): Principal | Promise<Principal> {
  let outcome: Outcome | undefined;
  let settle: ((outcome: Outcome) => void) | undefined;
  const decide = (error: unknown, principal: Principal | false, info?: unknown): void => {
    const decided = principal ? { principal } : { refusal: toRefusal(error ?? info) };
    if (settle) settle(decided);
    else outcome = decided;
  };
  // The strategy never passes a request on (passport's `next`): if one did, it would be refused.
  passport.authenticate(JWT_STRATEGY, PASSPORT_OPTIONS, decide)(request, reply, (error?: unknown) =>
    decide(error, false),
  );
  const unpack = (decided: Outcome): Principal => {
    if ('refusal' in decided) throw decided.refusal;
    return decided.principal;
  };
  if (outcome) return unpack(outcome);
  return new Promise<Outcome>((resolve) => (settle = resolve)).then(unpack);
}

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * The HTTP side of the shared verifier, as a passport strategy: it reads the
 * `Bearer` or `DPoP` token (any case of the scheme), {@link AccessTokenVerifier}
 * checks it with the same rules, and the same cache of verified tokens, as RPC
 * messages, and {@link HttpSenderConstraint} what the request must prove of
 * its sender (a DPoP proof for a DPoP-bound token). A token seen before costs
 * a hash and a lookup, not a signature check.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly senderConstraint: HttpSenderConstraint,
  ) {
    // passport-jwt requires a key source; authenticate() below never reaches it, and it fails closed if anything did.
    super({
      jwtFromRequest: bearerToken,
      secretOrKeyProvider: (_request, _token, done) => done(new Error('use AccessTokenVerifier')),
    });
  }

  /** Reports to passport as passport-jwt does: `fail` with the reason, which JwtAuthGuard turns into a 401. */
  // The request is Fastify's; passport's typings call it Express's, so the type comes from them.
  override authenticate(request: Parameters<Strategy['authenticate']>[0]): void {
    const fastifyRequest = request as unknown as FastifyRequest;
    const credentials = httpCredentialsOf(fastifyRequest);
    if (!credentials) return this.fail(this.senderConstraint.missingToken(), 401);
    let principal: Principal | Promise<Principal>;
    try {
      principal = this.principalOf(credentials, fastifyRequest);
    } catch (error) {
      return this.fail(error, 401);
    }
    if (!(principal instanceof Promise)) return this.success(principal);
    principal.then(
      (verified) => this.success(verified),
      (error: unknown) => this.fail(error, 401),
    );
  }

  /**
   * The request's principal: at once for a token verified before that needs no proof of its
   * sender, else a promise. A refusal throws, or rejects.
   */
  private principalOf(
    credentials: HttpCredentials,
    request: FastifyRequest,
  ): Principal | Promise<Principal> {
    // No certificate-bound token over HTTP; a DPoP-bound one only with its proof.
    const ofSender = (principal: Principal): Principal | Promise<Principal> => {
      const checked = this.senderConstraint.check(principal.claims, credentials, request);
      return checked instanceof Promise ? checked.then(() => principal) : principal;
    };
    const principal = this.verifier.verify(credentials.token);
    return principal instanceof Promise ? principal.then(ofSender) : ofSender(principal);
  }

  /** Required by PassportStrategy, and never called: authenticate() hands passport the verifier's principal. */
  validate(principal: Principal): Principal {
    return principal;
  }
}
