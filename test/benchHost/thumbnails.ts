/**
 * The host side of `npm run bench -- --only thumbnails` (bench/thumbnails.bench.ts), loaded
 * as `--extensionTestsPath` in the real extension host of code-server. For each server it
 * is given (Orthanc: `/rendered`; the local server: frames decoded in the page), it opens
 * "Show Thumbnails" on a 500-instance series and scrolls the grid through every tile, as a
 * person paging down would, until each tile was drawn; meanwhile `monitorEventLoopDelay`
 * (10 ms resolution) watches this host's event loop. Issue 14: never held over 50 ms.
 *
 * In: DICOMWEB_BENCH_RESULT (the JSON file written), DICOMWEB_BENCH_EXTENSION_ID,
 * DICOMWEB_BENCH_THUMB_TARGETS (JSON: [{ name, connection, studyInstanceUid,
 * seriesInstanceUid, instances }]).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import {
  constants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type IntervalHistogram,
} from 'node:perf_hooks';
import { format } from 'node:util';
import * as vscode from 'vscode';
import { heldLoopRecorder, THREAD_CPU, type HeldLoop } from '../support/heldLoop';

export interface ThumbnailTarget {
  name: string;
  connection: Record<string, string>;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  instances: number;
}

export interface ThumbnailRun {
  name: string;
  tiles: number;
  drawn: number;
  failed: number;
  /** From the command to the last tile drawn. */
  durationMs: number;
  loop: { maxMs: number; p99Ms: number; meanMs: number; samples: number };
  /** The same host idle for 15 s just before (the machine's share of the delays). */
  control: ThumbnailRun['loop'];
  /** The host's own share of the loop's delays (heldLoopRecorder). */
  held: HeldLoop;
  /** Whether `held` counts this thread only (else the whole process: an overestimate). */
  threadCpu: boolean;
  /** Garbage collections of this host during the run: the longest pause, and how many. */
  gc: { maxMs: number; maxKind: string; major: number; minor: number };
  /** Most requests the connection had in flight at once (its limiter's peak). */
  peakInFlight: number;
  posted: { image: number; frame: number; error: number; cancelled: number; bytes: number };
  /** Where the drawn tiles' pixels came from. */
  sources: Record<string, number>;
}

interface Node {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  connection?: { id: string };
}
interface Grid {
  tileCount: number;
  posted: ThumbnailRun['posted'];
  thumbnails: { limiter: { peak: number } };
  scrollTo(index: number): void;
  dispose(): void;
}
interface Api {
  services: {
    tree: { getChildren(node?: Node): Promise<Node[]> };
    thumbnails: { onDidShowTile: vscode.Event<{ index: number; source: string; panel: Grid }> };
  };
}

/**
 * The host's garbage collections (`gc` performance entries, their duration in wall time):
 * V8 collects the whole extension host's heap, VS Code's own objects included, and a
 * collection's pause holds the loop.
 */
function gcRecorder(): { stop(): ThumbnailRun['gc'] } {
  const gc = { maxMs: 0, maxKind: 'none', major: 0, minor: 0 };
  const kindOf = (kind: number | undefined): string =>
    kind === constants.NODE_PERFORMANCE_GC_MAJOR
      ? 'major'
      : kind === constants.NODE_PERFORMANCE_GC_MINOR
        ? 'minor'
        : kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL
          ? 'incremental'
          : 'weak callbacks';
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as { detail?: { kind?: number } };
      const kind = kindOf(detail?.kind);
      if (kind === 'major') gc.major++;
      else if (kind === 'minor') gc.minor++;
      if (entry.duration > gc.maxMs) {
        gc.maxMs = entry.duration;
        gc.maxKind = kind;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      observer.disconnect();
      return gc;
    },
  };
}

/** How long the idle control measurement lasts. */
const CONTROL_MS = 15_000;

function loopOf(histogram: IntervalHistogram): ThumbnailRun['loop'] {
  return {
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    meanMs: histogram.mean / 1e6,
    samples: histogram.count,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `done`, checking every 20 ms, up to `ms`; returns whether it came. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(20);
  }
  return true;
}

async function seriesNode(api: Api, connectionId: string, target: ThumbnailTarget): Promise<Node> {
  const server = (await api.services.tree.getChildren()).find(
    (n) => n.connection?.id === connectionId,
  );
  if (!server) throw new Error(`${target.name}: the connection is not in the tree`);
  const study = (await api.services.tree.getChildren(server)).find(
    (n) => n.studyInstanceUid === target.studyInstanceUid,
  );
  if (!study) throw new Error(`${target.name}: the study is not listed`);
  const series = (await api.services.tree.getChildren(study)).find(
    (n) => n.seriesInstanceUid === target.seriesInstanceUid,
  );
  if (!series) throw new Error(`${target.name}: the series is not listed`);
  return series;
}

/** Opens the grid and scrolls to the first tile not drawn yet until every tile is. */
async function measureTarget(api: Api, target: ThumbnailTarget): Promise<ThumbnailRun> {
  const { id } = (await vscode.commands.executeCommand(
    'dicomweb.server.add',
    target.connection,
  )) as { id: string };
  const series = await seriesNode(api, id, target);
  const sources: Record<string, number> = {};
  const drawn = new Set<number>();
  let grid: Grid | undefined;
  const subscription = api.services.thumbnails.onDidShowTile((tile) => {
    grid = tile.panel;
    if (!drawn.has(tile.index)) sources[tile.source] = (sources[tile.source] ?? 0) + 1;
    drawn.add(tile.index);
  });
  // Control: the same host, idle, for CONTROL_MS just before: what the machine's load
  // alone does to the loop (2 cores shared by other jobs), beside what the grid does.
  const control = monitorEventLoopDelay({ resolution: 10 });
  control.enable();
  await sleep(CONTROL_MS);
  control.disable();
  // DICOMWEB_BENCH_CPU_PROFILE=dir: a CPU profile of this host during the run, one
  // .cpuprofile per server, to see what a long delay was (started before the measurement:
  // starting the profiler blocks the thread).
  const profileDir = process.env.DICOMWEB_BENCH_CPU_PROFILE;
  const session = profileDir ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const recorder = heldLoopRecorder();
  const collections = gcRecorder();
  let gc: ThumbnailRun['gc'] = { maxMs: 0, maxKind: 'none', major: 0, minor: 0 };
  let held: HeldLoop = { maxCpuMs: 0, stalls: [] };
  const started = performance.now();
  const skipped = new Set<number>();
  try {
    await vscode.commands.executeCommand('dicomweb.series.showThumbnails', series);
    if (!(await until(() => grid !== undefined, 60_000)))
      throw new Error(`${target.name}: no tile drawn in 60 s`);
    for (;;) {
      let next = 0;
      while (next < target.instances && (drawn.has(next) || skipped.has(next))) next++;
      if (next >= target.instances) break;
      grid!.scrollTo(next);
      if (!(await until(() => drawn.has(next), 15_000))) skipped.add(next);
    }
  } finally {
    histogram.disable();
    held = recorder.stop();
    gc = collections.stop();
    subscription.dispose();
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(
        `${profileDir}/${target.name.replace(/\W+/g, '-')}.cpuprofile`,
        JSON.stringify(profile),
      );
      session.disconnect();
    }
  }
  const durationMs = performance.now() - started;
  const run: ThumbnailRun = {
    name: target.name,
    tiles: grid?.tileCount ?? 0,
    drawn: drawn.size,
    failed: skipped.size,
    durationMs,
    loop: loopOf(histogram),
    control: loopOf(control),
    held,
    threadCpu: THREAD_CPU,
    gc,
    peakInFlight: grid?.thumbnails.limiter.peak ?? 0,
    posted: { ...(grid?.posted ?? { image: 0, frame: 0, error: 0, cancelled: 0, bytes: 0 }) },
    sources,
  };
  grid?.dispose();
  await vscode.workspace
    .getConfiguration('dicomweb')
    .update('servers', [], vscode.ConfigurationTarget.Global);
  return run;
}

export async function run(): Promise<void> {
  const output = process.env.DICOMWEB_BENCH_RESULT;
  if (!output) throw new Error('DICOMWEB_BENCH_RESULT is not set');
  try {
    const extension = vscode.extensions.getExtension(process.env.DICOMWEB_BENCH_EXTENSION_ID ?? '');
    if (!extension) throw new Error('the extension is not installed in this host');
    const api = (await extension.activate()) as Api;
    const targets = JSON.parse(
      process.env.DICOMWEB_BENCH_THUMB_TARGETS ?? '[]',
    ) as ThumbnailTarget[];
    const runs: ThumbnailRun[] = [];
    for (const target of targets) runs.push(await measureTarget(api, target));
    writeFileSync(output, JSON.stringify({ node: process.version, runs }, null, 2));
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : format(error);
    writeFileSync(output, JSON.stringify({ error: message }, null, 2));
    throw error;
  }
}
