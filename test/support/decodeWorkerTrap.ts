/**
 * The thumbnail thread's real script (src/thumbnails/decodeWorkerMain.ts) behind a trap, for
 * the tests of a thread that dies or hangs: a request of size {@link CRASH_SIZE} ends the
 * thread (exit code 3), one of size {@link HANG_SIZE} keeps it in an endless loop. Every
 * other request reaches the real script, which the trap loads after its own listener.
 */
import { parentPort } from 'node:worker_threads';

export const CRASH_SIZE = 7001;
export const HANG_SIZE = 7002;

if (parentPort) {
  parentPort.on('message', (request: { size: number }) => {
    if (request.size === CRASH_SIZE) process.exit(3);
    if (request.size === HANG_SIZE) for (;;);
  });
  void import('../../src/thumbnails/decodeWorkerMain.js');
}
