import { Logger } from '@nestjs/common';
import { JsonSocket } from '@nestjs/microservices';
import type { JsonSocketOptions } from '@nestjs/microservices';
import type { RpcErrorBody } from './rpc-error';

/** What a caller gets instead of a reply too large to send. */
export const REPLY_TOO_LARGE: RpcErrorBody = {
  status: 500,
  error: 'reply_too_large',
  message: 'the answer is larger than the transport accepts',
};

/**
 * The server's side of a connection: never writes a reply larger than
 * `maxFrameSize`. The caller would drop the whole connection on it and every
 * call in flight there would fail; this call alone is answered with
 * {@link REPLY_TOO_LARGE} instead.
 */
export class ReplyLimitedSocket extends JsonSocket {
  private readonly log = new Logger(ReplyLimitedSocket.name);

  constructor(
    socket: unknown,
    options: JsonSocketOptions,
    private readonly maxFrameSize: number,
  ) {
    super(socket, options);
  }

  // Nest's JsonSocket serializes again when it writes: the cost of knowing the size before it does.
  protected override handleSend(packet: unknown, callback?: (err?: unknown) => void): void {
    const length = JSON.stringify(packet).length;
    if (length <= this.maxFrameSize) return super.handleSend(packet, callback);
    const { id } = packet as { id?: unknown };
    this.log.error(
      `a reply of ${length} characters exceeds the frame limit of ${this.maxFrameSize}: answered ${REPLY_TOO_LARGE.error} instead`,
    );
    super.handleSend({ id, err: REPLY_TOO_LARGE, isDisposed: true }, callback);
  }
}
