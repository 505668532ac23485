import { Logger } from '@nestjs/common';
import { ServerTCP } from '@nestjs/microservices';
import type { MessageHandler, TcpContext, TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { isObservable, Observable, throwError } from 'rxjs';
import { contextOf, endWithError, runInContext, SpanKind, startSpan } from '@acme/telemetry';
import { runInCallContext } from './call-context';
import { isMessageEnvelope } from './message-envelope';
import { MessageContext } from './message.context';
import { closeWhenPeerCertificateExpires } from './peer-certificate-expiry';
import { mtlsServerOptions } from './mtls.options';
import { ReplyLimitedSocket } from './reply-limited.socket';
import type { RpcErrorBody } from './rpc-error';
import type { TransportSecurity } from './transport-security';
import { countTlsHandshakeFailure, recordMessage } from './transport.metrics';

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
 * A pattern that `JSON.parse` refuses (an identifier, not `true`, `false` or `null`), so
 * that Nest's route for it is the pattern itself.
 */
const PLAIN_PATTERN = /^(?!(?:true|false|null)$)[A-Za-z_][\w.:-]*$/;

/**
 * The TCP transport over mutual TLS (or behind a mesh that does it). Every message arrives as a
 * {@link MessageEnvelope}; handlers receive only its `data`, and guards read
 * the metadata and the peer's identity from the {@link MessageContext}.
 *
 * @example
 * app.connectMicroservice({ strategy: new SecureTcpServer(options) }, { inheritAppConfig: true });
 */
export class SecureTcpServer extends ServerTCP {
  private readonly log = new Logger(SecureTcpServer.name);
  private readonly messageLog = new Logger('Message');
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
    // Without TCP_NODELAY, Nagle's algorithm holds a message written while an earlier one
    // awaits its ACK, which the peer may delay for 40 ms: calls share a connection.
    const accept = (socket: Socket) => {
      socket.setNoDelay(true);
      socket.setTimeout(secureOptions.idleTimeoutMs, () => socket.destroy());
    };
    if (security.mode !== 'mtls') {
      server.on('connection', accept);
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
      accept(socket);
      closeWhenPeerCertificateExpires(socket);
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
      const pattern = messageContext.getPattern();
      const traced = startSpan(pattern, {
        kind: SpanKind.SERVER,
        parent: contextOf(envelope.meta),
        attributes: {
          'rpc.system': 'nestjs_tcp',
          'rpc.method': pattern,
          'acme.peer.spiffe_id': messageContext.getPeerSpiffeId() ?? '',
        },
      });
      // Everything the handler starts, and what Nest subscribes to after it returns, runs
      // in the message's call context (and span): a ServiceClient call forwards its token.
      // A benchmark without security forwards nothing, as it never did.
      const inContext = <T>(work: () => T): T => {
        const spanned = traced ? () => runInContext(traced.context, work) : work;
        return this.secureOptions.security.mode === 'benchmark-insecure'
          ? spanned()
          : runInCallContext(envelope.meta, spanned);
      };
      const started = performance.now();
      const settled = (error?: unknown, closed = false): void => {
        const status = error === undefined ? undefined : statusOf(error);
        if (traced) {
          if (status === undefined) {
            traced.span.end();
          } else {
            traced.span.setAttribute('acme.rpc.status', status);
            endWithError(traced.span, error);
          }
        }
        const outcome = closed ? 'closed' : status === undefined ? 'ok' : String(status);
        this.logMessage(messageContext, outcome, performance.now() - started);
      };
      this.inFlight++;
      try {
        return whenSettled(
          await inContext(() => handler(envelope.data, messageContext)),
          inContext,
          settled,
        );
      } catch (error) {
        settled(error);
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
   * One line per message, as the gateway logs each request: pattern, calling service,
   * request id, outcome and duration; and its time in `acme_rpc_message_duration_seconds`.
   * Refused messages too: a guard's refusal is also counted in `acme_auth_denials_total`.
   */
  private logMessage(message: MessageContext, outcome: string, durationMs: number): void {
    const pattern = message.getPattern();
    recordMessage(pattern, outcome, durationMs / 1000);
    const fields = {
      pattern,
      peer: message.getPeerSpiffeId(),
      requestId: message.getMeta().requestId,
      durationMs: Math.round(durationMs),
    };
    if (outcome === 'ok') {
      this.messageLog.log(fields, 'message handled');
    } else if (outcome === 'closed') {
      this.messageLog.warn(fields, 'connection closed before the answer');
    } else {
      this.messageLog.warn({ ...fields, status: Number(outcome) }, 'message failed');
    }
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

/** The status an error answers with: the filters turn every failure into an {@link RpcErrorBody}. */
function statusOf(error: unknown): number {
  const status = (error as Partial<RpcErrorBody> | undefined)?.status;
  return typeof status === 'number' ? status : 500;
}

/**
 * A handler's answer, with `settled` called once when it is known: Nest subscribes to an
 * Observable answer after the handler returns, and that work runs `inContext` too.
 * Unsubscribed before an answer (the connection closed), it settles as `closed`.
 */
function whenSettled(
  result: unknown,
  inContext: <T>(work: () => T) => T,
  settled: (error?: unknown, closed?: boolean) => void,
): unknown {
  if (!isObservable(result)) {
    settled();
    return result;
  }
  return new Observable((subscriber) => {
    let done = false;
    const finish = (error?: unknown, closed?: boolean) => {
      if (done) return;
      done = true;
      settled(error, closed);
    };
    const subscription = inContext(() =>
      result.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          finish(error);
          subscriber.error(error);
        },
        complete: () => {
          finish();
          subscriber.complete();
        },
      }),
    );
    return () => {
      subscription.unsubscribe();
      finish(undefined, true);
    };
  });
}
