/**
 * The fuzz suite's watchdog, run in a worker thread so that the fuzzer's own work (building
 * bodies, parsing answers) never delays it: every {@link PING_INTERVAL_MS} it sends one
 * "ping" to the server and samples the server process's resident memory.
 *
 * The ping is `GET /v2/studies?limit=1` with `Accept: application/dicom+json` and
 * `Connection: close` on a NEW TCP connection; its time runs from `connect()` to the last
 * byte of the answer (connection set-up, routing, a QIDO over the whole index, the JSON
 * answer). One ping at a time; a ping unanswered after {@link PING_GIVE_UP_MS} counts as
 * that long and as a timeout.
 *
 * Two measures say how much of a ping's time was the machine's, not the server's, when
 * other processes share the cores:
 * - a control: the same request at the same moment to a trivial node:http server in this
 *   thread that answers `{}` at once (a stall on the client's side delays both);
 * - the time the server's main thread (its event loop) spent runnable but waiting for a CPU
 *   during the ping, from /proc/PID/task/PID/schedstat (Linux; the kernel's run-queue delay).
 *
 * workerData: `{ port: number, pid: number }`. Messages out: `{ type: 'ping', ms, controlMs,
 * runQueueMs, ok, status }` per ping, `{ type: 'rss', kib }` per sample; in: `'stop'` →
 * `{ type: 'stopped' }`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { readProcStatusKiB } from './fuzzHttp';

const PING_INTERVAL_MS = 250;
const PING_GIVE_UP_MS = 5_000;

const { port: serverPort, pid } = workerData as { port: number; pid: number };

function ping(port: number): Promise<{ ms: number; ok: boolean; status: number }> {
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
      const status = Number(
        /^HTTP\/1\.[01] (\d{3})/.exec(received.toString('latin1', 0, 16))?.[1] ?? 0,
      );
      resolve({
        ms: performance.now() - started,
        ok: ok && (status === 200 || status === 204),
        status,
      });
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

let controlPort = 0;

/**
 * Total time (ms) the process's main thread has waited on a run queue; 0 where /proc has no
 * schedstat.
 */
function runQueueWaitMs(processId: number): number {
  try {
    // "<ns on CPU> <ns waiting on a run queue> <timeslices>"
    // (Documentation/scheduler/sched-stats.rst)
    const fields = readFileSync(`/proc/${processId}/task/${processId}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/);
    return Number(fields[1]) / 1e6 || 0;
  } catch {
    return 0;
  }
}

/** The control: answers every request at once, from this thread. */
async function startControl(): Promise<Server> {
  const control = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/dicom+json', 'content-length': '2' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  controlPort = (control.address() as AddressInfo).port;
  return control;
}

async function loop(): Promise<void> {
  const control = await startControl();
  while (!stopping) {
    const started = performance.now();
    const kib = readProcStatusKiB(pid, 'VmRSS');
    if (kib !== undefined) parentPort!.postMessage({ type: 'rss', kib });
    const waitedBefore = runQueueWaitMs(pid);
    const [result, control] = await Promise.all([ping(serverPort), ping(controlPort)]);
    const runQueueMs = Math.max(0, runQueueWaitMs(pid) - waitedBefore);
    parentPort!.postMessage({ type: 'ping', ...result, controlMs: control.ms, runQueueMs });
    const wait = PING_INTERVAL_MS - (performance.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  control.close();
  parentPort!.postMessage({ type: 'stopped' });
}

if (parentPort) void loop();
