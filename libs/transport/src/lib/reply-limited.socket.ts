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

/** Nest's frame: the length of the JSON, `#`, the JSON. */
type FrameFormatter = (packet: unknown) => string;

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
    // Nest's handleSend frames each packet with this (private) method and writes the frame, with
    // its backpressure. Replacing it sizes a reply from the one JSON that is written, instead of
    // serialising every reply twice; the oversized-reply test fails if Nest stops calling it.
    (this as unknown as { formatMessageData: FrameFormatter }).formatMessageData = (packet) =>
      this.frame(packet);
  }

  private frame(packet: unknown): string {
    const json = JSON.stringify(packet);
    if (json.length <= this.maxFrameSize) return `${json.length}#${json}`;
    const { id } = packet as { id?: unknown };
    this.log.error(
      `a reply of ${json.length} characters exceeds the frame limit of ${this.maxFrameSize}: answered ${REPLY_TOO_LARGE.error} instead`,
    );
    const refused = JSON.stringify({ id, err: REPLY_TOO_LARGE, isDisposed: true });
    return `${refused.length}#${refused}`;
  }
}
