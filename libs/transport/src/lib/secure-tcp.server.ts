import { Logger } from '@nestjs/common';
import { ServerTCP } from '@nestjs/microservices';
import type { MessageHandler, TcpContext, TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { isObservable, Observable, throwError } from 'rxjs';
import { contextOf, endWithError, runInContext, SpanKind, startSpan } from '@acme/telemetry';
import type { StartedSpan } from '@acme/telemetry';
import { isMessageEnvelope } from './message-envelope';
import { MessageContext } from './message.context';
import { mtlsServerOptions } from './mtls.options';
import { ReplyLimitedSocket } from './reply-limited.socket';
import type { RpcErrorBody } from './rpc-error';
import type { TransportSecurity } from './transport-security';
import { countTlsHandshakeFailure } from './transport.metrics';

export interface SecureTcpServerOptions {
  host: string;
  port: number;
  /** Mutual TLS here, or by the mesh's sidecars; plaintext only in a benchmark. */
  security: TransportSecurity;
  /**
   * Largest frame, in characters of its JSON: a bigger request drops the
   * connection; a bigger reply is not sent, its call is answered `reply_too_large`.
   */
  maxFrameSize: number;
  /** A frame that is not complete after this long drops the connection. */
  incompleteFrameTimeoutMs: number;
  /** A peer that has not completed the TLS handshake after this long is disconnected. */
  handshakeTimeoutMs: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  maxConnections: number;
  /** On shutdown, how long messages already being handled may take to finish. */
  drainTimeoutMs: number;
}

/**
 * The TCP transport over mutual TLS (or behind a mesh that does it). Every message arrives as a
 * {@link MessageEnvelope}; handlers receive only its `data`, and guards read
 * the metadata and the peer's identity from the {@link MessageContext}.
 *
 * @example
 * app.connectMicroservice({ strategy: new SecureTcpServer(options) }, { inheritAppConfig: true });
 */
/**
 * A pattern that `JSON.parse` refuses (an identifier, not `true`, `false` or `null`), so
 * that Nest's route for it is the pattern itself.
 */
const PLAIN_PATTERN = /^(?!(?:true|false|null)$)[A-Za-z_][\w.:-]*$/;

export class SecureTcpServer extends ServerTCP {
  private readonly log = new Logger(SecureTcpServer.name);
  private inFlight = 0;
  private drained?: () => void;

  constructor(private readonly secureOptions: SecureTcpServerOptions) {
    const { security } = secureOptions;
    super({
      host: secureOptions.host,
      port: secureOptions.port,
      tlsOptions:
        security.mode === 'mtls'
          ? {
              ...mtlsServerOptions(security.tls, security.minVersion),
              handshakeTimeout: secureOptions.handshakeTimeoutMs,
            }
          : undefined,
    });
    const server = this.unwrap<TlsServer>();
    server.maxConnections = secureOptions.maxConnections;
    if (security.mode !== 'mtls') {
      server.on('connection', (socket: Socket) =>
        socket.setTimeout(secureOptions.idleTimeoutMs, () => socket.destroy()),
      );
      return;
    }
    // Node reports a failed or timed-out handshake (handshakeTimeout) here but
    // leaves the socket open: close it, and log the reason the client never learns.
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      countTlsHandshakeFailure(error);
      this.log.warn(
        `TLS handshake refused from ${socket.remoteAddress ?? 'unknown'}: ${error.message}`,
      );
      socket.destroy();
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      socket.setTimeout(secureOptions.idleTimeoutMs, () => socket.destroy());
    });
  }

  /** Each connection's frames: limited both ways, see {@link ReplyLimitedSocket}. */
  protected override getSocketInstance(socket: Socket): TcpSocket {
    return new ReplyLimitedSocket(
      socket,
      {
        maxBufferSize: this.secureOptions.maxFrameSize,
        incompleteMessageTimeout: this.secureOptions.incompleteFrameTimeoutMs,
      },
      this.secureOptions.maxFrameSize,
    );
  }

  /**
   * Nest tries `JSON.parse` on every incoming pattern and catches the SyntaxError that a
   * plain one (`order.get`) throws: an exception, with its stack, for each message (several
   * microseconds). A plain pattern skips the attempt, to the same route.
   */
  protected override getRouteFromPattern(pattern: string): string {
    return PLAIN_PATTERN.test(pattern)
      ? this.normalizePattern(pattern)
      : super.getRouteFromPattern(pattern);
  }

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    const handler = super.getHandlerByPattern(pattern);
    if (!handler) return null;
    const unwrapEnvelope: MessageHandler = async (envelope: unknown, context?: TcpContext) => {
      if (!isMessageEnvelope(envelope) || !context) {
        const body: RpcErrorBody = {
          status: 400,
          error: 'bad_request',
          message: 'malformed message envelope',
        };
        return throwError(() => body);
      }
      const messageContext = new MessageContext(
        context.getSocketRef(),
        context.getPattern(),
        envelope.meta,
      );
      const traced = startSpan(messageContext.getPattern(), {
        kind: SpanKind.SERVER,
        parent: contextOf(envelope.meta),
        attributes: {
          'rpc.system': 'nestjs_tcp',
          'rpc.method': messageContext.getPattern(),
          'acme.peer.spiffe_id': messageContext.getPeerSpiffeId() ?? '',
        },
      });
      this.inFlight++;
      try {
        if (!traced) return await handler(envelope.data, messageContext);
        const result: unknown = await runInContext(traced.context, () =>
          handler(envelope.data, messageContext),
        );
        return inSpan(result, traced);
      } catch (error) {
        if (traced) endWithError(traced.span, error);
        throw error;
      } finally {
        // After the answer is written, which happens once this promise settles.
        if (--this.inFlight === 0) setImmediate(() => this.drained?.());
      }
    };
    unwrapEnvelope.isEventHandler = handler.isEventHandler;
    unwrapEnvelope.extras = handler.extras;
    return unwrapEnvelope;
  }

  /**
   * Graceful stop: refuse new connections, let the messages being handled
   * finish (up to `drainTimeoutMs`), then close every connection.
   */
  // ServerTCP types close() as void, but Nest awaits it (Server.close(): any), which the drain needs.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  override async close(): Promise<void> {
    this.unwrap<TlsServer>().close();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, this.secureOptions.drainTimeoutMs).unref();
      });
    }
    super.close();
  }
}

/**
 * A handler's answer, subscribed inside its span, which ends with it: Nest
 * subscribes to the answer after the handler returns, outside of the span,
 * and the work an interceptor defers until then would otherwise be orphaned.
 */
function inSpan(result: unknown, { span, context }: StartedSpan): unknown {
  if (!isObservable(result)) {
    span.end();
    return result;
  }
  return new Observable((subscriber) => {
    const subscription = runInContext(context, () =>
      result.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          const status = (error as Partial<RpcErrorBody> | undefined)?.status;
          if (typeof status === 'number') span.setAttribute('acme.rpc.status', status);
          endWithError(span, error);
          subscriber.error(error);
        },
        complete: () => {
          span.end();
          subscriber.complete();
        },
      }),
    );
    // Unsubscribed before an answer (the connection closed): the span ends too.
    return () => {
      subscription.unsubscribe();
      if (span.isRecording()) span.end();
    };
  });
}
