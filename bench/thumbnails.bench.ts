/**
 * Issue 14, thumbnails: "the thumbnails of a 500-instance series never hold the extension
 * host's event loop for more than 50 ms". Measured in the real extension host of
 * code-server (the integration tests' launcher, test/vscode/), with the host side in
 * test/benchHost/thumbnails.ts:
 *
 *   a series of 500 instances of about 512×512 (511×513) 16-bit MONOCHROME2 (bulkData.ts
 *   writeLargeStudy, 262 MB, a CT's geometry) stored in the bench's Orthanc (which has
 *   `/rendered`: each tile is its PNG) and in the extension's local server started here, in
 *   this process, not in the host (each tile is its `/thumbnail` JPEG); "Show Thumbnails" on
 *   the series, then the grid scrolled to the first tile not drawn yet until all 500 were
 *   drawn (the page's `tileShown`).
 *
 * "Hold the event loop" is measured as what the host's own thread computed: between two
 * ticks of a 5 ms timer, its CPU time (`process.threadCpuUsage`), an upper bound of its
 * longest task (target ≤ 50 ms). The wall-time delay (`monitorEventLoopDelay`) is reported
 * beside it, with an idle control: on 2 cores shared with code-server, Chromium and the
 * server, most of a long wall delay is the OS running those (session 8 measured delays of
 * 93 ms in which the host's thread computed under 20 ms).
 *
 * Figures: the held maximum, the wall delays, time to draw all 500, the most requests in
 * flight on the connection (limit 4), tiles cancelled by scrolling.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DicomWebClient } from '../src/dicomweb';
import { startLocalServer } from '../src/server';
import { MAX_IN_FLIGHT } from '../src/thumbnails/limiter';
import { writeLargeStudy } from '../test/support/bulkData';
import type { ThumbnailRun, ThumbnailTarget } from '../test/benchHost/thumbnails';
import { ROOT, runInCodeServer } from './codeServerHost';
import { round } from './stats';
import type { BenchContext, BenchResult } from './types';

const INSTANCES = 500;
const FRAME = 512 * 512 * 2;
const MAX_LOOP_MS = 50;
const HOST_TIMEOUT_MS = 10 * 60 * 1000;

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = join(ctx.tmpDir, 'series');
  // Header (~600 bytes) + Pixel Data: writeLargeStudy sizes 512×512 from instanceBytes.
  const study = await writeLargeStudy(dir, INSTANCES * (FRAME + 700), FRAME + 700, {
    seed: 'thumbnails-bench',
  });
  const files = study.instances.map((instance) => instance.path).slice(0, INSTANCES);
  ctx.log(`wrote ${files.length} instances of ${study.columns}×${study.rows}`);
  const local = await startLocalServer({ dir: join(ctx.tmpDir, 'local'), port: 0 });
  try {
    const targets: ThumbnailTarget[] = [];
    const orthanc = new DicomWebClient({
      baseUrl: ctx.orthancDicomWebUrl,
      serverKind: 'orthanc',
      serverRoot: ctx.orthancRestUrl,
    });
    const localClient = new DicomWebClient({ baseUrl: `${local.url}/v2`, serverKind: 'local' });
    for (const [name, client, connection] of [
      [
        'Orthanc',
        orthanc,
        {
          name: 'Orthanc (bench)',
          url: ctx.orthancDicomWebUrl,
          kind: 'orthanc',
          serverRoot: ctx.orthancRestUrl,
        },
      ],
      [
        'local server',
        localClient,
        { name: 'Local (bench)', url: `${local.url}/v2`, kind: 'local' },
      ],
    ] as const) {
      const summary = await client.storeInstances(files, { batchSize: 100, concurrency: 2 });
      if (summary.stored !== files.length)
        throw new Error(`${name}: stored ${summary.stored} of ${files.length}`);
      await client.close();
      targets.push({
        name,
        connection: { ...connection },
        studyInstanceUid: study.studyInstanceUid,
        seriesInstanceUid: study.seriesInstanceUid,
        instances: files.length,
      });
      ctx.log(`${name}: ${files.length} instances stored`);
    }
    rmSync(dir, { recursive: true, force: true });
    const runs = await runInHost(ctx, targets);
    return runs.flatMap((run) => results(run));
  } finally {
    await local.close();
  }
}

function results(run: ThumbnailRun): BenchResult[] {
  const key = run.name === 'Orthanc' ? 'orthanc' : 'local';
  const how =
    run.name === 'Orthanc' ? "Orthanc's /rendered PNG per tile" : "the server's /thumbnail JPEG";
  const sources = Object.entries(run.sources)
    .map(([source, n]) => `${n} ${source}`)
    .join(', ');
  const complete = run.drawn === INSTANCES;
  const scenario = `${run.name}, ${INSTANCES}-instance series of 511×513 16-bit (${how}): "Show Thumbnails", then the grid scrolled to the first undrawn tile until all were drawn; ${run.drawn}/${run.tiles} tiles drawn (${sources}; ${run.posted.bytes} image bytes posted), ${run.failed} not drawn in 15 s, ${run.posted.cancelled} requests cancelled by scrolling`;
  const longest = [...run.held.stalls].sort((a, b) => b.wallMs - a.wallMs)[0];
  return [
    {
      name: `thumbnails.${key}.loopHeldMaxMs`,
      value: round(run.held.maxCpuMs),
      unit: 'ms',
      target: `≤ ${MAX_LOOP_MS} ms`,
      pass: run.held.maxCpuMs <= MAX_LOOP_MS && complete,
      details: `${scenario}. The longest the extension host's own work held its event loop: the most CPU time its thread (${run.threadCpu ? 'process.threadCpuUsage' : 'process.cpuUsage, the whole process: an overestimate'}) used between two ticks of a 5 ms timer, an upper bound of its longest task. ${run.held.stalls.length} delays over 40 ms. The host's garbage collections meanwhile (V8 collects the whole extension host's heap, VS Code's objects included): ${run.gc.major} major, ${run.gc.minor} minor, the longest pause ${round(run.gc.maxMs)} ms in wall time (${run.gc.maxKind}).`,
    },
    {
      name: `thumbnails.${key}.eventLoopMaxMs`,
      value: round(run.loop.maxMs),
      unit: 'ms',
      details: `${run.name}: the longest delay of the extension host's event loop in wall time (monitorEventLoopDelay, 10 ms resolution, ${run.loop.samples} samples), p99 ${round(run.loop.p99Ms)} ms, mean ${round(run.loop.meanMs)} ms, counting the time the OS gave the 2 cores to code-server, Chromium and the server${longest ? ` (the longest delay measured by the 5 ms timer: ${round(longest.wallMs)} ms, of which the host's thread computed ${round(longest.cpuMs)} ms)` : ''}; the same host idle for 15 s just before: max ${round(run.control.maxMs)} ms, p99 ${round(run.control.p99Ms)} ms. For information, no target: the target is on the host's own work above.`,
    },
    {
      name: `thumbnails.${key}.allTilesMs`,
      value: Math.round(run.durationMs),
      unit: 'ms',
      details: `${run.name}: from the command to the ${INSTANCES}th tile drawn, scrolling as above. For information, no target.`,
    },
    {
      name: `thumbnails.${key}.peakInFlight`,
      value: run.peakInFlight,
      unit: 'requests',
      target: `≤ ${MAX_IN_FLIGHT}`,
      pass: run.peakInFlight <= MAX_IN_FLIGHT && run.peakInFlight >= 1,
      details: `${run.name}: most tile tasks the connection ran at once (its RequestLimiter's peak; a task sends its requests one after the other).`,
    },
  ];
}

async function runInHost(ctx: BenchContext, targets: ThumbnailTarget[]): Promise<ThumbnailRun[]> {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
  };
  const figures = await runInCodeServer<{ runs?: ThumbnailRun[]; node?: string }>(ctx, {
    entry: 'thumbnails.ts',
    extensionDevelopmentPath: ROOT,
    timeoutMs: HOST_TIMEOUT_MS,
    env: {
      DICOMWEB_BENCH_EXTENSION_ID: `${manifest.publisher}.${manifest.name}`,
      DICOMWEB_BENCH_THUMB_TARGETS: JSON.stringify(targets),
      ...(process.env.DICOMWEB_BENCH_CPU_PROFILE
        ? { DICOMWEB_BENCH_CPU_PROFILE: process.env.DICOMWEB_BENCH_CPU_PROFILE }
        : {}),
    },
  });
  ctx.log(`host Node ${figures.node}`);
  for (const run of figures.runs ?? []) {
    for (const stall of run.held.stalls)
      ctx.log(
        `${run.name}: loop delayed ${round(stall.wallMs)} ms at ${Math.round(stall.atMs)} ms, the host's thread computed ${round(stall.cpuMs)} ms of it`,
      );
    ctx.log(
      `${run.name}: garbage collections ${run.gc.major} major, ${run.gc.minor} minor, longest pause ${round(run.gc.maxMs)} ms (${run.gc.maxKind})`,
    );
  }
  return figures.runs ?? [];
}
