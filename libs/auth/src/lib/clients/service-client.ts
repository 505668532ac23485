import {
  GatewayTimeoutException,
  HttpException,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { isRpcErrorBody } from '@acme/transport';
import type { MessageEnvelope, MessageMeta } from '@acme/transport';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { currentCallMeta } from '../context/call-context';
import type { ServiceTokenProvider } from '../token/service-token.provider';

/**
 * Calls another service over mutual TLS. `send` forwards the current caller's
 * token and request id; `sendAsService` authenticates as this service itself.
 * Failures arrive as HTTP exceptions: the callee's own status, 503 when it is
 * unreachable, 504 when it does not answer in time.
 *
 * @example
 * constructor(@InjectServiceClient('payment') private readonly payment: ServiceClient) {}
 * const receipt = await this.payment.send<Payment>(PAYMENT_PATTERNS.charge, dto);
 */
export class ServiceClient {
  private readonly log = new Logger(ServiceClient.name);

  constructor(
    readonly service: string,
    private readonly proxy: Pick<ClientProxy, 'send' | 'close'>,
    private readonly timeoutMs: number,
    private readonly serviceTokens?: ServiceTokenProvider,
  ) {}

  /** On behalf of the principal of the current request or message. */
  send<TResult>(pattern: string, data: unknown): Promise<TResult> {
    const meta = currentCallMeta();
    return this.dispatch(pattern, data, { authorization: meta?.authorization, requestId: meta?.requestId });
  }

  /** As this service, with its own client-credentials token. */
  async sendAsService<TResult>(pattern: string, data: unknown): Promise<TResult> {
    if (!this.serviceTokens) throw new Error(`no service credentials configured to call ${this.service}`);
    let token: string;
    try {
      token = await this.serviceTokens.getToken();
    } catch (error) {
      this.log.error(`cannot obtain a service token: ${(error as Error).message}`);
      throw new ServiceUnavailableException('the issuer is unavailable');
    }
    return this.dispatch(pattern, data, { authorization: `Bearer ${token}`, requestId: currentCallMeta()?.requestId });
  }

  close(): Promise<void> {
    return this.proxy.close() as Promise<void>;
  }

  private async dispatch<TResult>(pattern: string, data: unknown, meta: MessageMeta): Promise<TResult> {
    const envelope: MessageEnvelope = { meta, data };
    try {
      return await firstValueFrom(this.proxy.send<TResult>(pattern, envelope).pipe(timeout(this.timeoutMs)));
    } catch (error) {
      throw this.toHttpException(pattern, error);
    }
  }

  private toHttpException(pattern: string, error: unknown): HttpException {
    if (isRpcErrorBody(error)) {
      return new HttpException({ statusCode: error.status, error: error.error, message: error.message }, error.status);
    }
    if (error instanceof TimeoutError) {
      this.log.warn(`${this.service} did not answer ${pattern} within ${this.timeoutMs} ms`);
      return new GatewayTimeoutException(`${this.service} did not answer in time`);
    }
    this.log.warn(`${this.service} unavailable for ${pattern}: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
    return new ServiceUnavailableException(`${this.service} is unavailable`);
  }
}
