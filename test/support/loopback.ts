/**
 * A test's own HTTP or TCP server on 127.0.0.1 and a free port, for tests on bytes (never a
 * stand-in for the DICOMweb server of an integration test). `close` ends open connections
 * too, so a keep-alive socket never holds a test run open.
 */
import type { Server, Socket } from 'node:net';

export async function listenOnLoopback(
  server: Server,
): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
