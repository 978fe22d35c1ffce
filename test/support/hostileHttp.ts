/**
 * Pieces of the hostile servers that the client's tests (test/client/hostileServer.test.ts)
 * and the extension host's (test/integration/hostileServer.test.ts) share.
 */
import { createServer, type Server, type Socket } from 'node:net';

/**
 * What a hostile server sends at most per connection, so a client without caps (the code
 * before issue 10) fails its test by a timeout instead of exhausting the machine.
 */
export const SERVER_SEND_LIMIT = 512 * 1024 * 1024;

/**
 * Writes `piece` again and again, as fast as the peer reads, up to {@link SERVER_SEND_LIMIT}; then
 * holds the connection open.
 */
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

/**
 * A request as a hostile server saw it: the path as sent and the header fields, names in lower
 * case.
 */
export interface SeenRequest {
  path: string;
  headers: Record<string, string>;
}

/**
 * A raw HTTP/1.1 server that reads each connection's request head and hands the socket to
 * `onRequest`, which misbehaves as its test wants (no HTTP library in between to tidy up).
 */
export function createHostileServer(
  onRequest: (socket: Socket, request: SeenRequest) => void,
): Server {
  return createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    const onData = (data: Buffer): void => {
      head += data.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [line, ...fields] = head.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(':');
        headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
      }
      onRequest(socket, { path: line?.split(' ')[1] ?? '', headers });
    };
    socket.on('data', onData);
  });
}
