/**
 * The fuzz suite's watchdog, run in a worker thread so that the fuzzer's own work (building
 * bodies, parsing answers) never delays it: every {@link PING_INTERVAL_MS} it sends one
 * "ping" to the server and samples the server process's resident memory.
 *
 * The ping is `GET {prefix}/studies?limit=1` with `Accept: application/dicom+json` and
 * `Connection: close` on a NEW TCP connection; its time runs from `connect()` to the last
 * byte of the answer (connection set-up, routing, a QIDO over the whole index, the JSON
 * answer). One ping at a time; a ping unanswered after {@link PING_GIVE_UP_MS} counts as
 * that long and as a timeout.
 *
 * workerData: `{ port: number, pid: number }`. Messages out: `{ type: 'ping', ms, ok, status }`
 * per ping, `{ type: 'rss', kib }` per sample; in: `'stop'` → `{ type: 'stopped' }`.
 */
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { readProcStatusKiB } from './fuzzHttp';

const PING_INTERVAL_MS = 250;
const PING_GIVE_UP_MS = 5_000;

const { port, pid } = workerData as { port: number; pid: number };

function ping(): Promise<{ ms: number; ok: boolean; status: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received.toString('latin1', 0, 16))?.[1] ?? 0);
      resolve({ ms: performance.now() - started, ok: ok && (status === 200 || status === 204), status });
    };
    const timer = setTimeout(() => finish(false), PING_GIVE_UP_MS);
    socket.on('connect', () => {
      socket.write(
        `GET /v2/studies?limit=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/dicom+json\r\nConnection: close\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(false));
  });
}

let stopping = false;
parentPort!.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

async function loop(): Promise<void> {
  while (!stopping) {
    const started = performance.now();
    const kib = readProcStatusKiB(pid, 'VmRSS');
    if (kib !== undefined) parentPort!.postMessage({ type: 'rss', kib });
    const result = await ping();
    parentPort!.postMessage({ type: 'ping', ...result });
    const wait = PING_INTERVAL_MS - (performance.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  parentPort!.postMessage({ type: 'stopped' });
}

if (parentPort) void loop();
