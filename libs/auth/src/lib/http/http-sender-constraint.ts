import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DpopException, InvalidTokenException, MissingTokenException } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions, DpopOptions } from '../auth.options';
import { CallSlot } from '../context/call-slot';
import { checkCertificateBinding } from '../token/certificate-binding';
import { DpopNonces } from '../token/dpop-nonce';
import type { DpopErrorCode, ReplayCache } from '../token/dpop-proof.verifier';
import { DpopError, DpopProofVerifier, MemoryReplayCache } from '../token/dpop-proof.verifier';

/** The credentials of an HTTP request: `Authorization: Bearer <token>` or `DPoP <token>`. */
export interface HttpCredentials {
  scheme: 'bearer' | 'dpop';
  token: string;
}

// Schemes are case-insensitive (RFC 7235), as passport-jwt read them; the verifier judges the token.
const AUTHORIZATION = /^(Bearer|DPoP)\s+(\S+)$/i;

/** The token and its scheme, or undefined when the header holds neither. */
export function readHttpCredentials(authorization: unknown): HttpCredentials | undefined {
  const match = typeof authorization === 'string' ? AUTHORIZATION.exec(authorization) : null;
  if (!match) return undefined;
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'dpop' : 'bearer', token: match[2] };
}

/** A request's credentials once read; null when its header holds none. */
const readCredentials = new CallSlot<HttpCredentials | null>('HTTP credentials');

/**
 * {@link readHttpCredentials} of the request's `Authorization` header, read once per request:
 * the call context and the strategy both need the token, and each read scans its kilobyte.
 */
export function httpCredentialsOf(
  request: Pick<FastifyRequest, 'headers'>,
): HttpCredentials | undefined {
  let credentials = readCredentials.get(request);
  if (credentials === undefined) {
    credentials = readHttpCredentials(request.headers.authorization) ?? null;
    readCredentials.set(request, credentials);
  }
  return credentials ?? undefined;
}

/**
 * The server nonce a request's answer must carry (`DPoP-Nonce`), kept on the request by
 * {@link HttpSenderConstraint.check} for the guard that holds the reply.
 */
export const nextDpopNonce = new CallSlot<string>('next DPoP nonce');

/**
 * What an HTTP request must prove about the token it presents, beyond the
 * token itself: no certificate-bound token (HTTP has no client certificate
 * here), and for a DPoP-bound one (`cnf.jkt`) the DPoP scheme and a valid
 * proof (RFC 9449), with a recent server nonce when nonces are on. A
 * DPoP-bound token sent as a bearer token is refused.
 */
@Injectable()
export class HttpSenderConstraint implements OnApplicationShutdown {
  private readonly dpop?: DpopOptions;
  private readonly verifier?: DpopProofVerifier;
  private readonly replayCache?: ReplayCache;

  constructor(@Inject(AUTH_OPTIONS) options: AuthOptions) {
    this.dpop = options.dpop;
    if (!this.dpop) return;
    this.replayCache = this.dpop.replayCache ?? new MemoryReplayCache();
    this.verifier = new DpopProofVerifier({
      algorithms: this.dpop.algorithms,
      maxAgeSec: this.dpop.maxAgeSec,
      clockToleranceSec: 5,
      replayCache: this.replayCache,
      // A nonce lives one to two proof lifetimes: clients rarely need a retry to get a new one.
      nonces: this.dpop.nonceSecret && new DpopNonces(this.dpop.nonceSecret, this.dpop.maxAgeSec),
    });
  }

  /** The 401 for a request without a token: its challenge names the schemes accepted here. */
  missingToken(): InvalidTokenException {
    const { dpop } = this;
    if (!dpop) return new InvalidTokenException();
    return new MissingTokenException({
      required: dpop.mode === 'required',
      algorithms: dpop.algorithms,
    });
  }

  /**
   * Throws the 401 to answer, or returns when the request may use the token: at once, or
   * with a promise while a DPoP proof is checked. A nonce the answer must carry is left on
   * the request ({@link nextDpopNonce}).
   */
  check(
    claims: Readonly<Record<string, unknown>>,
    credentials: HttpCredentials,
    request: FastifyRequest,
  ): void | Promise<void> {
    const { dpop, verifier } = this;
    checkCertificateBinding(claims, undefined, false, dpop ? ['jkt'] : []);
    if (!dpop || !verifier) {
      if (credentials.scheme === 'dpop') {
        throw new InvalidTokenException('the DPoP scheme is not accepted here', 'dpop');
      }
      return;
    }
    const jkt = (claims['cnf'] as Record<string, unknown> | undefined)?.['jkt'];
    const refuse = (code: DpopErrorCode, message: string, nonce?: string) =>
      new DpopException(code, message, dpop.algorithms, nonce);
    if (jkt === undefined) {
      if (credentials.scheme === 'dpop') {
        throw refuse('invalid_token', 'the token is not DPoP-bound');
      }
      if (dpop.mode === 'required') throw refuse('invalid_token', 'a DPoP-bound token is required');
      return;
    }
    if (typeof jkt !== 'string' || jkt.length === 0) {
      throw refuse('invalid_token', 'cnf jkt is malformed');
    }
    if (credentials.scheme !== 'dpop') {
      throw refuse('invalid_token', 'a DPoP-bound token must come with the DPoP scheme');
    }
    const proof = request.headers['dpop'];
    if (typeof proof !== 'string' || proof.includes(',')) {
      throw refuse('invalid_dpop_proof', 'one DPoP proof header is required');
    }
    return verifier
      .verify({
        proof,
        method: request.method,
        url: `${dpop.publicOrigin}${request.url}`,
        accessToken: credentials.token,
        boundJkt: jkt,
      })
      .then(
        (verified) => {
          if (verified.nextNonce) nextDpopNonce.set(request, verified.nextNonce);
        },
        (error: unknown) => {
          if (error instanceof DpopError) throw refuse(error.code, error.message, error.nonce);
          // The replay cache cannot answer (Redis down): fail closed, without blaming the proof.
          throw refuse('invalid_dpop_proof', 'the proof cannot be checked now; retry');
        },
      );
  }

  /**
   * Whether the replay cache has answered since start-up, when it is kept outside the process
   * (Redis); undefined when there is no such cache to wait for.
   */
  replayCacheReady(): Promise<boolean> | undefined {
    return this.replayCache?.ready?.();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replayCache?.close?.();
  }
}
