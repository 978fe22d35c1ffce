/**
 * Pieces of the hostile servers that the client's tests (test/client/hostileServer.test.ts)
 * and the extension host's (test/integration/hostileServer.test.ts) share.
 */
import type { Socket } from 'node:net';

/**
 * What a hostile server sends at most per connection, so a client without caps (the code
 * before issue 10) fails its test by a timeout instead of exhausting the machine.
 */
export const SERVER_SEND_LIMIT = 512 * 1024 * 1024;

/** Writes `piece` again and again, as fast as the peer reads, up to {@link SERVER_SEND_LIMIT}; then holds the connection open. */
export function pump(socket: Socket, piece: Buffer): void {
  let sent = 0;
  const write = (): void => {
    while (sent < SERVER_SEND_LIMIT && !socket.destroyed) {
      sent += piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', write);
        return;
      }
    }
  };
  write();
}
