/**
 * Fuzz suite of the local server (issue 10): at least 1,000 generated hostile requests
 * (test/support/fuzzRequests.ts: random methods and garbage tokens, paths with encoded
 * traversal, queries with random wildcards, STOW bodies of real Part 10 instances with
 * random cuts and boundaries, lying lengths, chunked garbage, foreign Host and Origin, idle
 * sockets), a few in flight at a time, against the server running in a child process over a
 * folder that has a canary beside it (test/support/fuzzCanary.ts). Asserted:
 *
 * - the server keeps answering a ping within {@link PING_LIMIT_MS} during the whole fuzz
 *   (the ping: `GET /v2/studies?limit=1` on a new connection every 250 ms from a thread of
 *   its own, timed from connect to the answer's last byte, less the machine's share: the
 *   time a trivial control server took at the same moment, or the time the server's event
 *   loop waited for a CPU, whichever is larger; see test/support/fuzzPinger.ts), and it
 *   never takes over 1 s however loaded the machine; and the server does not die;
 * - no file outside the root is read (the canary's marker is in no answer), written or
 *   deleted (the canary tree hashed before and after);
 * - the server's peak RSS stays under {@link RSS_LIMIT_MIB};
 * - every instance the server acknowledged is retrievable, byte for byte.
 *
 * The seed is random per run and printed; `DICOMWEB_FUZZ_SEED=<n>` replays a run (the same
 * cases in the same order, as long as the same STOWs are acknowledged), and
 * `DICOMWEB_FUZZ_CASES=<n>` changes the count.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { DicomWebClient, readPartBody } from '../../src/dicomweb';
import {
  CANARY_DIR,
  addLateLinks,
  hashTree,
  makeFuzzFolders,
  type FuzzFolders,
} from '../support/fuzzCanary';
import { exchange, readProcStatusKiB, type ExchangeResult } from '../support/fuzzHttp';
import {
  nextCase,
  type Carried,
  type FuzzCase,
  type FuzzWorld,
  type KnownInstance,
} from '../support/fuzzRequests';
import { rng } from '../support/random';
import { tempDir } from './helpers';

/** Issue 10: "the server keeps answering a ping within 100 ms". */
const PING_LIMIT_MS = 100;
/**
 * Bound on the server process's peak resident memory (VmHWM) over the whole fuzz. Measured
 * (Node 24, x64, 2,000 cases, eight runs): 113–132 MiB with frame lists deduplicated and
 * streamed (the JS heap in use stays ~20 MiB; the rest is V8's reserve and native memory,
 * which creep up with the number of requests: ~150 MiB after 4,000). Before that (commit
 * 6c95a85 with the linear wildcard matcher, each `frames/1,1,1,…` answer built whole in
 * memory; issue 10 saw +510 MB for one 2.2 KB URL): 230–268 MiB. 192 MiB leaves ~45 %
 * above the worst hardened figure, for GC timing and other machines, and stays well below
 * the unbounded one.
 */
const RSS_LIMIT_MIB = 192;
const CASES = Number(process.env.DICOMWEB_FUZZ_CASES ?? 2_000);
const SEED = Number(process.env.DICOMWEB_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Requests in flight at once. */
const CONCURRENCY = 6;
/** `DICOMWEB_FUZZ_TRACE=<file>`: one line per case (kind, status, time, request head). */
const TRACE = process.env.DICOMWEB_FUZZ_TRACE;
/** No ping answered for this long: the server is frozen, stop sending (the ping test fails). */
const FROZEN_AFTER_MS = 10_000;

interface ServerChild {
  process: ChildProcess;
  port: number;
  url: string;
}

function startServerChild(dir: string, logFile: string): Promise<ServerChild> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', 'support', 'fuzzServerChild.js'), [], {
      env: { ...process.env, DICOMWEB_FUZZ_DIR: dir, DICOMWEB_FUZZ_LOG: logFile },
      // e.g. `DICOMWEB_FUZZ_EXEC_ARGV="--trace-gc"` or `"--cpu-prof"` to see where the server's
      // time goes.
      execArgv: (process.env.DICOMWEB_FUZZ_EXEC_ARGV ?? '').split(' ').filter(Boolean),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message: { type: string; url: string; port: number }) => {
      if (message.type === 'listening')
        resolve({ process: child, port: message.port, url: message.url });
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`the server child exited before listening (${code ?? signal})`)),
    );
    child.once('error', reject);
  });
}

interface ChildUsage {
  /** Peak RSS (getrusage), KiB. */
  maxRssKiB: number;
  memory: NodeJS.MemoryUsage;
  /** V8 heap spaces: reserved and used bytes. */
  spaces: Record<string, { size: number; used: number }>;
}

/** The child's own account of its memory, over IPC (so only while it answers). */
function childUsage(child: ServerChild): Promise<ChildUsage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the server child did not report its memory')),
      5_000,
    );
    const listener = (message: { type: string } & ChildUsage): void => {
      if (message.type !== 'usage') return;
      clearTimeout(timer);
      child.process.off('message', listener);
      resolve(message);
    };
    child.process.on('message', listener);
    child.process.send({ type: 'usage' });
  });
}

/**
 * Peak RSS of the child in KiB: /proc's VmHWM (read from outside, frozen or not), else its
 * getrusage.
 */
async function peakRssKiB(child: ServerChild): Promise<number> {
  return readProcStatusKiB(child.process.pid!, 'VmHWM') ?? (await childUsage(child)).maxRssKiB;
}

function stopServerChild(child: ServerChild): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.process.kill('SIGKILL'), 5_000);
    child.process.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.process.send({ type: 'close' });
  });
}

interface Leak {
  kind: string;
  request: string;
  status: number;
}

interface Acknowledged extends KnownInstance {
  /** The exact bytes of the part the server acknowledged (undefined: not a part we sent). */
  bytes?: Buffer;
  kind: string;
}

interface FuzzReport {
  seed: number;
  cases: number;
  /** Category → status (or how the exchange ended) → count. */
  byKind: Map<string, Map<string, number>>;
  /** Slowest answered fuzz request (ms). */
  slowestMs: number;
  byStatus: Map<string, number>;
  aborted?: string;
  pings: number;
  pingFailures: number;
  /** Worst ping time (ms), as measured. */
  worstPingMs: number;
  /** Worst ping time less the control's time at the same moment: the server's own share. */
  worstOwnPingMs: number;
  worstControlMs: number;
  /** Worst time the server's event loop waited for a CPU during one ping. */
  worstRunQueueMs: number;
  slowPings: string[];
  peakRssMiB: number;
  worstSampledRssMiB: number;
  /** The server's memory after the fuzz: where its resident memory is. */
  memoryAtEnd?: ChildUsage;
  leaks: Leak[];
  acknowledged: Map<string, Acknowledged>;
  retrieveFailures: string[];
  canaryBefore: string[];
  canaryAfter: string[];
  serverAlive: boolean;
  seconds: number;
}

const requestLine = (bytes: Buffer): string =>
  JSON.stringify(bytes.toString('latin1', 0, Math.min(bytes.length, 160)));

/** The instances a STOW answer lists as stored (ReferencedSOPSequence, PS3.18 §10.5.3). */
function storedBy(result: ExchangeResult): Array<{ sop: string; study?: string; series?: string }> {
  if (result.status !== 200 && result.status !== 202) return [];
  let body: Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>;
  try {
    body = JSON.parse(result.body.toString('utf8'));
  } catch {
    return [];
  }
  return (body['00081199']?.Value ?? []).map((item) => {
    const url = String(item['00081190']?.Value?.[0] ?? '');
    const match = /\/studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/?]+)$/.exec(url);
    return { sop: String(item['00081155']?.Value?.[0]), study: match?.[1], series: match?.[2] };
  });
}

/** Records one answer: status, canary bytes, acknowledged instances. */
function record(
  report: FuzzReport,
  world: FuzzWorld,
  marker: Buffer,
  kase: FuzzCase,
  result: ExchangeResult,
): void {
  const status = result.status ? String(result.status) : result.end;
  report.byStatus.set(status, (report.byStatus.get(status) ?? 0) + 1);
  const kind = kase.kind.replace(/^(stow-mangled|lying|method)-.*/, '$1');
  const perKind = report.byKind.get(kind) ?? new Map<string, number>();
  perKind.set(status, (perKind.get(status) ?? 0) + 1);
  report.byKind.set(kind, perKind);
  report.slowestMs = Math.max(report.slowestMs, result.end === 'answered' ? result.ms : 0);
  if (TRACE) {
    const end = performance.now();
    appendFileSync(
      TRACE,
      `${(end - result.ms).toFixed(0)}-${end.toFixed(0)}\t${kase.kind}\t${status}\t${result.ms.toFixed(1)} ms\t${requestLine(kase.bytes)}\n`,
    );
  }
  if (result.raw.includes(marker) || result.body.includes(marker)) {
    report.leaks.push({ kind: kase.kind, request: requestLine(kase.bytes), status: result.status });
  }
  for (const stored of storedBy(result)) {
    const carried: Carried | undefined = kase.carried.find((c) => c.sop === stored.sop);
    const study = carried?.study ?? stored.study;
    const series = carried?.series ?? stored.series;
    if (!study || !series || report.acknowledged.has(stored.sop)) continue;
    report.acknowledged.set(stored.sop, {
      sop: stored.sop,
      study,
      series,
      bytes: carried?.bytes,
      kind: kase.kind,
    });
    world.acknowledged.push({ sop: stored.sop, study, series });
  }
}

/**
 * Starts the watchdog thread; its figures land in `report`, `lastAnswer()` says when a ping last
 * came back.
 */
function startPinger(
  report: FuzzReport,
  child: ServerChild,
): { stop: () => Promise<void>; lastAnswer: () => number } {
  const worker = new Worker(join(__dirname, '..', 'support', 'fuzzPinger.js'), {
    workerData: { port: child.port, pid: child.process.pid },
  });
  let lastAnswer = performance.now();
  worker.on(
    'message',
    (message: {
      type: string;
      ms: number;
      controlMs: number;
      runQueueMs: number;
      ok: boolean;
      kib: number;
    }) => {
      if (message.type === 'ping') {
        report.pings++;
        report.worstPingMs = Math.max(report.worstPingMs, message.ms);
        report.worstControlMs = Math.max(report.worstControlMs, message.controlMs);
        report.worstRunQueueMs = Math.max(report.worstRunQueueMs, message.runQueueMs);
        // The server's own share: the time less the machine's, the larger of the two measures
        // of it (the control's time; the server's event loop waiting for a CPU), not their sum.
        const own = message.ms - Math.max(message.controlMs, message.runQueueMs);
        report.worstOwnPingMs = Math.max(report.worstOwnPingMs, own);
        const detail = `${message.ms.toFixed(0)} ms (control ${message.controlMs.toFixed(0)} ms, run queue ${message.runQueueMs.toFixed(0)} ms)`;
        if (message.ms > PING_LIMIT_MS) report.slowPings.push(detail);
        if (TRACE)
          appendFileSync(
            TRACE,
            `${(performance.now() - message.ms).toFixed(0)}-${performance.now().toFixed(0)}\tPING\t${message.ok}\t${detail}\n`,
          );
        if (message.ok) lastAnswer = performance.now();
        else report.pingFailures++;
      } else if (message.type === 'rss') {
        report.worstSampledRssMiB = Math.max(report.worstSampledRssMiB, message.kib / 1024);
        if (TRACE)
          appendFileSync(
            TRACE,
            `${performance.now().toFixed(0)}\tRSS\t${(message.kib / 1024).toFixed(1)} MiB\tafter ${report.cases} cases\n`,
          );
      }
    },
  );
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      worker.on('message', (message: { type: string }) => {
        if (message.type === 'stopped') void worker.terminate().then(() => resolve());
      });
      worker.postMessage('stop');
    });
  return { stop, lastAnswer: () => lastAnswer };
}

/** Sends the cases, CONCURRENCY at a time; stops early when the server stops answering pings. */
async function sendCases(
  report: FuzzReport,
  world: FuzzWorld,
  marker: Buffer,
  lastAnswer: () => number,
): Promise<void> {
  const random = rng(SEED);
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < CASES && !report.aborted) {
      if (performance.now() - lastAnswer() > FROZEN_AFTER_MS) {
        report.aborted = `no ping answered for ${FROZEN_AFTER_MS} ms after ${sent} cases: the server is frozen`;
        return;
      }
      sent++;
      const kase = nextCase(random, world, SEED);
      const result = await exchange(world.port, kase);
      report.cases++;
      record(report, world, marker, kase, result);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Retrieves every acknowledged instance (WADO-RS, PS3.18 §10.4.1.1.1) and compares it. */
async function retrieveAcknowledged(
  report: FuzzReport,
  child: ServerChild,
  marker: Buffer,
): Promise<void> {
  const client = new DicomWebClient({
    baseUrl: `${child.url}/v2`,
    serverKind: 'local',
    retry: { retries: 0 },
  });
  for (const ack of report.acknowledged.values()) {
    try {
      const part = await client.retrieveInstanceFile({
        studyInstanceUid: ack.study,
        seriesInstanceUid: ack.series,
        sopInstanceUid: ack.sop,
      });
      const bytes = Buffer.from(await readPartBody(part));
      if (bytes.includes(marker))
        report.leaks.push({ kind: 'retrieve', request: ack.sop, status: 200 });
      if (ack.bytes && !bytes.equals(ack.bytes)) {
        report.retrieveFailures.push(
          `${ack.sop} (${ack.kind}): ${bytes.length} bytes served, ${ack.bytes.length} acknowledged, not the same`,
        );
      } else if (!ack.bytes && !bytes.includes(Buffer.from(ack.sop))) {
        report.retrieveFailures.push(
          `${ack.sop} (${ack.kind}): the served file does not hold its SOP Instance UID`,
        );
      }
    } catch (error) {
      report.retrieveFailures.push(`${ack.sop} (${ack.kind}): ${(error as Error).message}`);
    }
  }
}

async function runFuzz(
  folders: FuzzFolders,
  child: ServerChild,
  report: FuzzReport,
): Promise<void> {
  const world: FuzzWorld = {
    port: child.port,
    seeded: folders.seeded,
    multiFrame: folders.multiFrame,
    deletable: folders.deletable,
    linkedStudyUid: folders.linkedStudyUid,
    acknowledged: [],
    canaryNames: folders.canaryNames,
    canaryDir: CANARY_DIR,
  };
  const pinger = startPinger(report, child);
  const started = performance.now();
  try {
    await sendCases(report, world, folders.marker, pinger.lastAnswer);
  } finally {
    await pinger.stop();
  }
  report.seconds = (performance.now() - started) / 1000;
  report.serverAlive = child.process.exitCode === null && child.process.signalCode === null;
  report.peakRssMiB = (await peakRssKiB(child).catch(() => 0)) / 1024;
  if (!report.aborted && report.serverAlive)
    report.memoryAtEnd = await childUsage(child).catch(() => undefined);
  if (report.aborted || !report.serverAlive) {
    report.retrieveFailures.push(`not retrieved: ${report.aborted ?? 'the server process died'}`);
  } else {
    await retrieveAcknowledged(report, child, folders.marker);
  }
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/** process.memoryUsage() and the V8 heap spaces over 1 MiB (reserved/used), in MiB. */
function memoryLine(usage: ChildUsage | undefined): string {
  if (!usage) return 'not reported';
  const memory = Object.entries(usage.memory)
    .map(([name, bytes]) => `${name} ${mib(bytes)}`)
    .join(', ');
  const spaces = Object.entries(usage.spaces)
    .filter(([, space]) => space.size > 2 ** 20)
    .map(([name, space]) => `${name} ${mib(space.size)}/${mib(space.used)}`)
    .join(', ');
  return `${memory} MiB; heap spaces (reserved/used MiB): ${spaces}`;
}

function summary(report: FuzzReport): string {
  const histogram = [...report.byStatus]
    .sort()
    .map(([status, n]) => `${status}:${n}`)
    .join(' ');
  const kinds = [...report.byKind]
    .sort()
    .map(
      ([kind, statuses]) =>
        `    ${kind}: ${[...statuses]
          .sort()
          .map(([status, n]) => `${status}×${n}`)
          .join(' ')}`,
    )
    .join('\n');
  return [
    `fuzz seed ${report.seed} (replay: DICOMWEB_FUZZ_SEED=${report.seed}): ${report.cases} cases in ${report.seconds.toFixed(1)} s${report.aborted ? ` — ABORTED: ${report.aborted}` : ''}`,
    `  statuses: ${histogram}`,
    `  by kind:\n${kinds}`,
    `  slowest answered request: ${report.slowestMs.toFixed(0)} ms`,
    `  pings: ${report.pings}, worst ${report.worstPingMs.toFixed(1)} ms (less the machine's share: worst ${report.worstOwnPingMs.toFixed(1)} ms; worst control ${report.worstControlMs.toFixed(1)} ms, worst run-queue wait ${report.worstRunQueueMs.toFixed(1)} ms), ${report.slowPings.length} over ${PING_LIMIT_MS} ms, ${report.pingFailures} unanswered`,
    `  server peak RSS (VmHWM): ${report.peakRssMiB.toFixed(1)} MiB (worst 250 ms sample ${report.worstSampledRssMiB.toFixed(1)} MiB), bound ${RSS_LIMIT_MIB} MiB`,
    `  server memory after the fuzz: ${memoryLine(report.memoryAtEnd)}`,
    `  acknowledged instances: ${report.acknowledged.size}, retrieve failures: ${report.retrieveFailures.length}`,
    `  canary: ${report.leaks.length} answer(s) with its bytes, tree ${JSON.stringify(report.canaryBefore) === JSON.stringify(report.canaryAfter) ? 'unchanged' : 'CHANGED'}`,
  ].join('\n');
}

describe('fuzz: the local server under 1,000+ hostile requests', { timeout: 300_000 }, () => {
  const report: FuzzReport = {
    seed: SEED,
    cases: 0,
    byKind: new Map(),
    slowestMs: 0,
    byStatus: new Map(),
    pings: 0,
    pingFailures: 0,
    worstPingMs: 0,
    worstOwnPingMs: 0,
    worstControlMs: 0,
    worstRunQueueMs: 0,
    slowPings: [],
    peakRssMiB: 0,
    worstSampledRssMiB: 0,
    leaks: [],
    acknowledged: new Map(),
    retrieveFailures: [],
    canaryBefore: [],
    canaryAfter: [],
    serverAlive: false,
    seconds: 0,
  };
  let child: ServerChild | undefined;
  let folders: FuzzFolders;

  before(async () => {
    folders = await makeFuzzFolders(tempDir('fuzz'), SEED);
    report.canaryBefore = await hashTree(folders.canary);
    child = await startServerChild(folders.root, join(folders.parent, 'server.log'));
    await addLateLinks(folders);
    // Time for the folder watcher to see the late links (it re-checks changed paths after a short
    // delay).
    await sleep(1_000);
    try {
      await runFuzz(folders, child, report);
    } finally {
      report.canaryAfter = await hashTree(folders.canary);
      // The figures the issue's closing note quotes, printed whether the assertions hold or not.
      console.log(summary(report));
    }
  });

  after(async () => {
    if (child) await stopServerChild(child);
  });

  it(`runs at least 1,000 cases, with acknowledged STOWs among them (seed ${SEED})`, () => {
    assert.ok(
      report.cases >= Math.min(CASES, 1_000),
      `only ${report.cases} cases ran${report.aborted ? `: ${report.aborted}` : ''}`,
    );
    assert.ok(
      report.acknowledged.size >= 20,
      `only ${report.acknowledged.size} instances acknowledged`,
    );
  });

  it(`keeps answering a ping within ${PING_LIMIT_MS} ms and stays alive`, () => {
    assert.ok(report.serverAlive, 'the server process died during the fuzz');
    assert.equal(report.aborted, undefined);
    assert.equal(report.pingFailures, 0, `${report.pingFailures} ping(s) got no answer`);
    assert.ok(report.pings >= 10, `only ${report.pings} pings`);
    // The server's own share: time the machine took from it (other processes on the same
    // cores: the control was as late, or the event loop waited for a CPU) is not its doing.
    assert.ok(
      report.worstOwnPingMs <= PING_LIMIT_MS,
      `worst ping ${report.worstOwnPingMs.toFixed(1)} ms beyond the machine's share; over ${PING_LIMIT_MS} ms: ${report.slowPings.join(', ')}`,
    );
    // However loaded the machine, ten times the bound is the server's problem.
    assert.ok(
      report.worstPingMs <= 10 * PING_LIMIT_MS,
      `worst ping ${report.worstPingMs.toFixed(1)} ms: ${report.slowPings.join(', ')}`,
    );
  });

  it('answers no request with 500 (no unhandled error behind any input)', () => {
    assert.equal(report.byStatus.get('500') ?? 0, 0, summary(report));
  });

  it('reads no file outside the root (no answer holds the canary marker)', () => {
    const examples = report.leaks
      .slice(0, 8)
      .map((leak) => `${leak.kind} → ${leak.status}: ${leak.request}`);
    assert.equal(
      report.leaks.length,
      0,
      `${report.leaks.length} answer(s) held canary bytes, e.g.\n${examples.join('\n')}`,
    );
  });

  it('writes and deletes no file outside the root (canary tree unchanged)', () => {
    assert.ok(report.canaryBefore.length >= 10);
    const removed = report.canaryBefore.filter((line) => !report.canaryAfter.includes(line));
    const added = report.canaryAfter.filter((line) => !report.canaryBefore.includes(line));
    const show = (lines: string[]): string =>
      lines
        .slice(0, 6)
        .map((line) => `  ${line.split('\t')[0]}`)
        .join('\n') + (lines.length > 6 ? `\n  … ${lines.length - 6} more` : '');
    assert.ok(
      removed.length + added.length === 0,
      `canary changed: ${removed.length} gone or altered:\n${show(removed)}\n${added.length} new or altered:\n${show(added)}`,
    );
  });

  it(`keeps the server's peak RSS under ${RSS_LIMIT_MIB} MiB`, () => {
    assert.ok(report.peakRssMiB > 0, 'the peak RSS was not measured');
    assert.ok(report.peakRssMiB < RSS_LIMIT_MIB, `peak RSS ${report.peakRssMiB.toFixed(1)} MiB`);
  });

  it('serves every acknowledged instance, byte for byte', () => {
    assert.ok(report.acknowledged.size > 0);
    assert.deepEqual(report.retrieveFailures, []);
  });
});
