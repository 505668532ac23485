import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { DpopException, InvalidTokenException } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.options';
import type { AuthOptions, DpopOptions } from '../auth.options';
import { checkCertificateBinding } from '../token/certificate-binding';
import type { DpopErrorCode } from '../token/dpop-proof.verifier';
import {
  DpopError,
  DpopProofVerifier,
  MemoryReplayCache,
  RedisReplayCache,
} from '../token/dpop-proof.verifier';

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

/**
 * What an HTTP request must prove about the token it presents, beyond the
 * token itself: no certificate-bound token (HTTP has no client certificate
 * here), and for a DPoP-bound one (`cnf.jkt`) the DPoP scheme and a valid
 * proof (RFC 9449). A DPoP-bound token sent as a bearer token is refused.
 */
@Injectable()
export class HttpSenderConstraint implements OnApplicationShutdown {
  private readonly dpop?: DpopOptions;
  private readonly verifier?: DpopProofVerifier;
  private readonly redis?: Redis;

  constructor(@Inject(AUTH_OPTIONS) options: AuthOptions) {
    this.dpop = options.dpop;
    if (!this.dpop) return;
    if (this.dpop.redis) {
      const { url, keyPrefix, timeoutMs } = this.dpop.redis;
      // As the rate limiter's: never queue while disconnected, never wait past the timeout.
      this.redis = new Redis(url, {
        keyPrefix,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: timeoutMs,
        connectTimeout: Math.max(timeoutMs, 1000),
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      });
      this.redis.on('error', (error: Error) =>
        new Logger(HttpSenderConstraint.name).warn(`DPoP replay cache: ${error.message}`),
      );
    }
    this.verifier = new DpopProofVerifier({
      algorithms: this.dpop.algorithms,
      maxAgeSec: this.dpop.maxAgeSec,
      clockToleranceSec: 5,
      replayCache: this.redis ? new RedisReplayCache(this.redis) : new MemoryReplayCache(),
    });
  }

  /** Throws the 401 to answer, or resolves when the request may use the token. */
  async check(
    claims: Readonly<Record<string, unknown>>,
    credentials: HttpCredentials,
    request: FastifyRequest,
  ): Promise<void> {
    const { dpop, verifier } = this;
    checkCertificateBinding(claims, undefined, false, dpop ? ['jkt'] : []);
    if (!dpop || !verifier) {
      if (credentials.scheme === 'dpop') {
        throw new InvalidTokenException('the DPoP scheme is not accepted here', 'dpop');
      }
      return;
    }
    const jkt = (claims['cnf'] as Record<string, unknown> | undefined)?.['jkt'];
    const refuse = (code: DpopErrorCode, message: string) =>
      new DpopException(code, message, dpop.algorithms);
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
    try {
      await verifier.verify({
        proof,
        method: request.method,
        url: `${dpop.publicOrigin}${request.url}`,
        accessToken: credentials.token,
        boundJkt: jkt,
      });
    } catch (error) {
      if (error instanceof DpopError) throw refuse(error.code, error.message);
      // The replay cache cannot answer (Redis down): fail closed, without blaming the proof.
      throw refuse('invalid_dpop_proof', 'the proof cannot be checked now; retry');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}
