import {
  GatewayTimeoutException,
  HttpException,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { currentCallMeta, isRpcErrorBody } from '@acme/transport';
import type { MessageEnvelope, MessageMeta } from '@acme/transport';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { annotateActiveSpan, outgoingTraceContext, SpanKind, traced } from '@acme/telemetry';
import { InvalidTokenException } from '../auth.errors';
import type { ServiceTokenProvider } from '../token/service-token.provider';
import { TokenRequestError } from '../token/token-endpoint';
import type { TokenExchanger } from '../token/token-exchanger';
import { recordCircuitState } from '../metrics/auth.metrics';
import { CircuitBreaker } from './circuit-breaker';
import type { CircuitBreakerOptions } from './circuit-breaker';

export interface ResilienceOptions {
  /** Extra attempts for calls marked idempotent, after a connection failure (not after a timeout). */
  retries: number;
  /** First backoff between attempts; doubles each time, with jitter. */
  retryDelayMs: number;
  breaker: CircuitBreakerOptions;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  retries: 2,
  retryDelayMs: 50,
  breaker: { failureThreshold: 5, resetAfterMs: 5_000 },
};

/** Which token a call to one service carries. */
export interface CalleeAuthorization {
  /** The audience the callee accepts (`aud`). */
  audience: string;
  /**
   * Exchanges the caller's token for one with the callee's audience. Without
   * it the caller's token is forwarded as it is (`AUTH_DELEGATION=forward`,
   * for issuers without token exchange): it must then name every service.
   */
  exchanger?: TokenExchanger;
  /** This service's own client-credentials tokens, for `sendAsService`. */
  serviceTokens?: ServiceTokenProvider;
}

export interface SendOptions {
  /**
   * The call may safely happen twice (a read, or a write the callee
   * deduplicates): it is then retried after a transport failure. Never set it
   * for a call that would act twice.
   */
  idempotent?: boolean;
}

/**
 * Calls another service over mutual TLS. `send` acts for the current caller:
 * it exchanges the caller's token for one with the callee's audience (RFC
 * 8693; or forwards it as it is, when so configured) and passes the request
 * id on; `sendAsService` authenticates as this service itself.
 * Failures arrive as HTTP exceptions: the callee's own status, 503 when it is
 * unreachable (at once while its circuit is open), 504 when it does not
 * answer in time. Idempotent calls are retried with backoff. Only calls that
 * get no answer count towards opening the circuit, never a callee's answer.
 *
 * @example
 * constructor(@InjectServiceClient('payment') private readonly payment: ServiceClient) {}
 * const receipt = await this.payment.send<Payment>(PAYMENT_PATTERNS.charge, dto);
 */
export class ServiceClient {
  private readonly log = new Logger(ServiceClient.name);
  private readonly breaker: CircuitBreaker;

  constructor(
    readonly service: string,
    private readonly proxy: Pick<ClientProxy, 'send' | 'close'>,
    private readonly timeoutMs: number,
    private readonly auth: CalleeAuthorization,
    private readonly resilience: ResilienceOptions = DEFAULT_RESILIENCE,
  ) {
    this.breaker = new CircuitBreaker(resilience.breaker, Date.now, (state) =>
      recordCircuitState(service, state),
    );
    recordCircuitState(service, 'closed');
  }

  /** On behalf of the principal of the current request or message. */
  send<TResult>(pattern: string, data: unknown, options: SendOptions = {}): Promise<TResult> {
    const meta = currentCallMeta();
    const dispatch = (authorization: string | undefined) =>
      this.dispatch<TResult>(
        pattern,
        data,
        { authorization, requestId: meta?.requestId, clientNetworks: meta?.clientNetworks },
        options,
      );
    // Not async: the call's own promise is the answer. On node 20 every promise runs the call
    // context's hooks, and an async function returning a promise makes two more.
    const onBehalfOf = this.onBehalfOf(meta?.authorization);
    return onBehalfOf instanceof Promise ? onBehalfOf.then(dispatch) : dispatch(onBehalfOf);
  }

  /** As this service, with its own client-credentials token. */
  async sendAsService<TResult>(pattern: string, data: unknown): Promise<TResult> {
    if (!this.auth.serviceTokens) {
      throw new Error(`no service credentials configured to call ${this.service}`);
    }
    let token: string;
    try {
      token = await this.auth.serviceTokens.getToken(this.auth.audience);
    } catch (error) {
      this.log.error(`cannot obtain a service token: ${(error as Error).message}`);
      throw new ServiceUnavailableException('the issuer is unavailable');
    }
    return this.dispatch(
      pattern,
      data,
      { authorization: `Bearer ${token}`, requestId: currentCallMeta()?.requestId },
      {},
    );
  }

  /**
   * The authorization a call for the current caller carries: their token
   * exchanged for the callee's audience, at once when exchanged before. Without
   * a bearer token there is nothing to exchange, and nothing meant for this
   * service is passed on: the callee refuses the call as it would any anonymous one.
   */
  private onBehalfOf(
    authorization: string | undefined,
  ): string | undefined | Promise<string | undefined> {
    const { exchanger, audience } = this.auth;
    if (!exchanger) return authorization;
    const token = bearerTokenOf(authorization);
    if (token === undefined) return undefined;
    const exchanged = traced('token.exchange', () => exchanger.exchange(token, audience), {
      attributes: { 'acme.token.audience': audience },
    });
    if (!(exchanged instanceof Promise)) return `Bearer ${exchanged}`;
    return exchanged.then(
      (value) => `Bearer ${value}`,
      (error: unknown) => {
        throw this.exchangeRefused(error);
      },
    );
  }

  private exchangeRefused(error: unknown): HttpException {
    if (error instanceof TokenRequestError && error.error === 'invalid_grant') {
      return new InvalidTokenException('the token can no longer be exchanged', 'expired');
    }
    this.log.error(`cannot exchange a token for ${this.service}: ${(error as Error).message}`);
    return new ServiceUnavailableException('the issuer is unavailable');
  }

  close(): Promise<void> {
    return this.proxy.close() as Promise<void>;
  }

  /** One span per call, attempts included; its trace context travels with the message. */
  private dispatch<TResult>(
    pattern: string,
    data: unknown,
    meta: MessageMeta,
    options: SendOptions,
  ): Promise<TResult> {
    return traced(
      `send ${pattern}`,
      () =>
        this.attempt<TResult>(
          pattern,
          { meta: { ...meta, ...outgoingTraceContext(currentCallMeta()) }, data },
          options,
        ),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'rpc.system': 'nestjs_tcp',
          'rpc.service': this.service,
          'rpc.method': pattern,
        },
      },
    );
  }

  private async attempt<TResult>(
    pattern: string,
    envelope: MessageEnvelope,
    options: SendOptions,
  ): Promise<TResult> {
    const attempts = options.idempotent ? 1 + this.resilience.retries : 1;
    for (let attempt = 1; ; attempt++) {
      if (!this.breaker.allow()) {
        throw new ServiceUnavailableException(`${this.service} is unavailable`);
      }
      try {
        const result = await firstValueFrom(
          this.proxy.send<TResult>(pattern, envelope).pipe(timeout(this.timeoutMs)),
        );
        this.breaker.success();
        return result;
      } catch (error) {
        // Only a call without an answer says the service is unhealthy. An answer,
        // whatever its status (a refusal, a 500, a reply too large to send), is
        // about this call alone: one caller's input causes it, and counting it
        // would let one caller open the circuit for all.
        if (isRpcErrorBody(error)) {
          this.breaker.success();
          throw this.toHttpException(pattern, error);
        }
        if (isConnectionRefused(error)) this.breaker.refused();
        else this.breaker.failure();
        // A timeout may mean the callee is overloaded: retrying would only add to its load.
        if (attempt >= attempts || error instanceof TimeoutError) {
          throw this.toHttpException(pattern, error);
        }
        annotateActiveSpan({ 'acme.rpc.attempts': attempt + 1 });
        const backoff = this.resilience.retryDelayMs * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * backoff));
      }
    }
  }

  private toHttpException(pattern: string, error: unknown): HttpException {
    if (isRpcErrorBody(error)) {
      return new HttpException(
        { statusCode: error.status, error: error.error, message: error.message },
        error.status,
      );
    }
    if (error instanceof TimeoutError) {
      this.log.warn(`${this.service} did not answer ${pattern} within ${this.timeoutMs} ms`);
      return new GatewayTimeoutException(`${this.service} did not answer in time`);
    }
    this.log.warn(
      `${this.service} unavailable for ${pattern}: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
    );
    return new ServiceUnavailableException(`${this.service} is unavailable`);
  }
}

function isConnectionRefused(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

const BEARER_SCHEME = /^bearer /i;

/**
 * What follows `Bearer ` in a call's authorization, without scanning it again: the edge writes
 * `Bearer <token>` into the call context, a message's guard admitted only that form, and the
 * issuer judges the token when it is exchanged.
 */
function bearerTokenOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined || !BEARER_SCHEME.test(authorization)) return undefined;
  return authorization.length > 'Bearer '.length
    ? authorization.slice('Bearer '.length)
    : undefined;
}
