/**
 * Benchmarks of the local server's change feed (issue 14), run by `npm run bench`
 * (`npm run bench -- --only changefeed`): a page of 100 entries over a feed of 100,000,
 * over HTTP with the project's client, the server in its own process. Target: < 20 ms.
 *
 * The log is seeded directly with 100,000 committed entries in the server's own format
 * (`.dicomweb/changefeed.log`, src/server/changeFeed.ts): storing 100,000 instances through
 * STOW would take minutes and measure STOW, not the feed. Then 100 real instances are stored
 * through STOW, so the last page has instances whose metadata the server reads.
 *
 *   v1        `/v1/changefeed?offset=50000&limit=100&includeMetadata=false` (by sequence)
 *   v2        `/v2/changefeed?startTime=…&offset=…&limit=100&includeMetadata=false` (a window
 *             in the middle of the day the entries span)
 *   metadata  `/v2/changefeed?offset=100000&limit=100` (metadata of 100 stored instances)
 *   open      the server's start over the 100,000-entry log (replay), reported without target
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DicomWebClient } from '../src/dicomweb';
import { startLocalServer } from '../src/server';
import { CHANGE_FEED_FILE } from '../src/server/changeFeed';
import { STATE_DIR } from '../src/server/storage';
import { uidFromString, writeSmallInstances } from '../test/support/bulkData';
import { median, percentile } from './stats';
import type { BenchContext, BenchResult } from './types';

type Context = Pick<BenchContext, 'tmpDir' | 'log'>;

const ENTRIES = 100_000;
const PAGE = 100;
const ROUNDS = 60;
const TARGET_MS = 20;

/** When forked by {@link startChildServer}, this module is the server process. */
const CHILD_DIR_VARIABLE = 'DICOMWEB_CHANGEFEED_BENCH_SERVER_DIR';
if (process.env[CHILD_DIR_VARIABLE] && process.send) {
  const started = performance.now();
  void startLocalServer({ dir: process.env[CHILD_DIR_VARIABLE]!, port: 0 }).then((server) => {
    process.send!({ url: server.url, startMs: performance.now() - started });
    process.on('message', (message) => {
      if (message === 'stop') void server.close().then(() => process.exit(0));
    });
  });
}

async function startChildServer(
  dir: string,
): Promise<{ url: string; startMs: number; stop: () => Promise<void> }> {
  const child: ChildProcess = fork(__filename, [], {
    env: { ...process.env, [CHILD_DIR_VARIABLE]: dir },
    stdio: 'inherit',
  });
  const { url, startMs } = await new Promise<{ url: string; startMs: number }>(
    (resolve, reject) => {
      child.once('message', (message: { url: string; startMs: number }) => resolve(message));
      child.once('exit', (code) => reject(new Error(`local server exited (${code})`)));
    },
  );
  return {
    url,
    startMs,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/** 100,000 committed create entries, one every ~0.86 s over the day before `end`. */
async function seedLog(dir: string, end: number): Promise<{ first: number; last: number }> {
  await mkdir(join(dir, STATE_DIR), { recursive: true });
  const step = 86_400_000 / ENTRIES;
  const first = end - 86_400_000;
  const lines: string[] = [];
  for (let q = 1; q <= ENTRIES; q++) {
    const study = uidFromString(`cf-bench/${q % 500}`);
    const series = `${study}.1`;
    const sop = uidFromString(`cf-bench/i/${q}`);
    lines.push(
      JSON.stringify({
        t: 'i',
        q,
        ts: Math.round(first + q * step),
        a: 'create',
        s: study,
        x: series,
        i: sop,
        f: `seeded/${sop}.dcm`,
      }),
      JSON.stringify({ t: 'c', q }),
    );
  }
  await writeFile(join(dir, STATE_DIR, CHANGE_FEED_FILE), `${lines.join('\n')}\n`);
  return { first, last: first + ENTRIES * step };
}

/** Median and p95 of a page read ROUNDS times (after 5 warm-up reads). */
async function timePages(read: () => Promise<number>): Promise<{ median: number; p95: number }> {
  for (let n = 0; n < 5; n++) await read();
  const times: number[] = [];
  for (let n = 0; n < ROUNDS; n++) {
    const started = performance.now();
    const count = await read();
    times.push(performance.now() - started);
    if (count !== PAGE) throw new Error(`a page held ${count} entries, not ${PAGE}`);
  }
  return { median: median(times), p95: percentile(times, 95) };
}

function result(name: string, timing: { median: number; p95: number }, what: string): BenchResult {
  return {
    name: `changefeed.${name}`,
    value: Number(timing.median.toFixed(2)),
    unit: 'ms',
    target: `< ${TARGET_MS} ms`,
    pass: timing.median < TARGET_MS,
    details: `${what}; median of ${ROUNDS} after 5 warm-up, p95 ${timing.p95.toFixed(2)} ms; server in its own process, project client over HTTP on 127.0.0.1`,
  };
}

export async function run(ctx: Context): Promise<BenchResult[]> {
  const dir = join(ctx.tmpDir, 'served');
  ctx.log(`seeding ${ENTRIES} entries`);
  const window = await seedLog(dir, Date.now() - 3_600_000);
  const server = await startChildServer(dir);
  const results: BenchResult[] = [
    {
      name: 'changefeed.open',
      value: Math.round(server.startMs),
      unit: 'ms',
      details: `start of the server over a ${ENTRIES}-entry log (replay of 200,000 lines), no target`,
    },
  ];
  const v1 = new DicomWebClient({ baseUrl: `${server.url}/v1`, serverKind: 'local' });
  const v2 = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
  try {
    const files = await writeSmallInstances(join(ctx.tmpDir, 'files'), PAGE, { seed: 'cf-bench' });
    await v2.storeInstances(files.map((f) => f.path));
    const v1Timing = await timePages(
      async () =>
        (await v1.changeFeed({ offset: ENTRIES / 2, limit: PAGE, includeMetadata: false })).length,
    );
    results.push(result('v1', v1Timing, `v1 page of ${PAGE} at sequence ${ENTRIES / 2}`));
    const middle = new Date((window.first + window.last) / 2);
    const v2Timing = await timePages(
      async () =>
        (
          await v2.changeFeed({
            startTime: middle,
            offset: 1000,
            limit: PAGE,
            includeMetadata: false,
          })
        ).length,
    );
    results.push(result('v2', v2Timing, `v2 page of ${PAGE}, a window from mid-day, offset 1000`));
    const readMetadataPage = async () =>
      (await v2.changeFeed({ offset: ENTRIES, limit: PAGE })).length;
    const coldStart = performance.now();
    await readMetadataPage();
    const coldMs = performance.now() - coldStart;
    const metaTiming = await timePages(readMetadataPage);
    results.push(
      result(
        'metadata',
        metaTiming,
        `v2 page of ${PAGE} with the metadata of 100 stored instances (the server's metadata cache warm; the first, cold read took ${coldMs.toFixed(1)} ms: 100 headers read and converted)`,
      ),
    );
  } finally {
    await v1.close();
    await v2.close();
    await server.stop();
  }
  results.push(await pageCpu(dir, false), await pageCpu(dir, true));
  return results;
}

/**
 * CPU time of one page, server and client in this one process (process.cpuUsage):
 * what the page costs whatever the machine's load, which on this shared 2-core machine
 * multiplies the wall times above. No target: the target is the wall time.
 */
async function pageCpu(dir: string, includeMetadata: boolean): Promise<BenchResult> {
  const server = await startLocalServer({ dir, port: 0 });
  const client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
  try {
    // Without metadata: the seeded entries mid-feed; with it: the 100 stored instances.
    const query = { offset: includeMetadata ? ENTRIES : ENTRIES / 2, limit: PAGE, includeMetadata };
    for (let n = 0; n < 5; n++) await client.changeFeed(query);
    const before = process.cpuUsage();
    for (let n = 0; n < ROUNDS; n++) await client.changeFeed(query);
    const used = process.cpuUsage(before);
    return {
      name: includeMetadata ? 'changefeed.metadataCpu' : 'changefeed.pageCpu',
      value: Number(((used.user + used.system) / 1000 / ROUNDS).toFixed(2)),
      unit: 'ms',
      details: `CPU time (user + system) per v2 page of ${PAGE} ${includeMetadata ? 'with' : 'without'} metadata, server and client in one process, mean of ${ROUNDS}: independent of the other processes' load`,
    };
  } finally {
    await client.close();
    await server.close();
  }
}
