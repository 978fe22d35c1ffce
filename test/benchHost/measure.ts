/**
 * The part of `bench/extension.bench.ts` that runs inside the real extension host
 * (code-server), loaded by test/benchHost/index.ts. It drives the extension as a person
 * would, through its commands and its tree view, and measures:
 *
 *   activation  `getExtension(id).activate()` on a cold host (the extension is installed
 *               without activation events, so nothing activated it before), the
 *               extension's own `activationMs`, then re-`require` + `activate` of the
 *               bundle a few times in the same (warm) host;
 *   tree        opening the view with the one connection (it expands by itself): the
 *               provider's `getChildren(server)` for the first page and the moment
 *               `treeView.reveal` of its first row resolves; then refreshes; then 20 ×
 *               "Load more" with the view visible, the event loop watched by
 *               `monitorEventLoopDelay`;
 *   upload      `dicomweb.upload.fromExplorer` on a folder of 1,000 files, event loop watched;
 *   download    `dicomweb.node.download` of a large study into a folder: rate, event loop and
 *               this host's memory while it runs;
 *   preview     `dicomweb.instance.preview` on instance nodes until the webview reports its
 *               first frame drawn (the `rendered` message, PreviewManager.onDidShowFirstFrame).
 *
 * Everything it needs comes in DICOMWEB_BENCH_* variables; it returns plain numbers.
 */
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';

export interface LoopDelay {
  /** Longest delay seen, ms. */
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  meanMs: number;
  /** Samples taken (one per 10 ms tick at best). */
  samples: number;
}

/** One `dicomweb.node.download` in the bench host. */
export interface DownloadRun {
  files: number;
  bytes: number;
  durationMs: number;
  writes: { sync: number; async: number };
  loop: LoopDelay;
  control?: LoopDelay;
  /**
   * Peak minus start, sampled every 10 ms in this host (which holds the workbench's extension state
   * too).
   */
  rssGrowth: number;
  arrayBuffersGrowth: number;
  heapUsedGrowth: number;
  baseRss: number;
}

export interface HostMeasurements {
  node: string;
  activation: {
    wasActiveBefore: boolean;
    /** Whether a do-nothing extension was activated before ours (DICOMWEB_BENCH_NOOP_FIRST). */
    noopFirst: boolean;
    /** `await getExtension(id).activate()`: the host's require + activate + its bookkeeping. */
    hostActivateMs: number;
    /**
     * The host's own require() of the bundle inside that call (Module._load timed), NaN if not
     * seen.
     */
    hostRequireMs: number;
    /**
     * The same call for an extension whose activate() does nothing (after ours, or before with
     * noopFirst).
     */
    noopActivateMs: number;
    /** What `activate()` measured itself (from its first line to its return). */
    ownActivationMs: number;
    /** Re-require of the bundle (cache cleared) in the warm host, per run. */
    warmRequireMs: number[];
    /**
     * VS Code's own record of our activation ("Developer: Startup Performance"), when it could be
     * read.
     */
    vscode?: VsCodeActivationTimes;
    /** The same record for the do-nothing extension. */
    vscodeNoop?: VsCodeActivationTimes;
  };
  tree?: {
    /** View opened → the provider's getChildren(server) resolved, first page (cold). */
    firstPageFromViewOpenMs: number;
    /** The provider's getChildren(server) call alone, first page (cold). */
    firstPageProviderMs: number;
    /** View opened → `treeView.reveal(first study)` resolved. */
    firstPageRevealMs: number;
    rowsOnFirstPage: number;
    /** Refresh of the connection → provider resolved / reveal resolved, per run (warm). */
    refreshes: Array<{ providerMs: number; revealMs: number }>;
    paging: {
      pages: number;
      studiesLoaded: number;
      perPageMs: number[];
      totalMs: number;
      loop: LoopDelay;
      control?: LoopDelay;
    };
  };
  upload?: {
    files: number;
    stored: number;
    failed: number;
    durationMs: number;
    loop: LoopDelay;
    control?: LoopDelay;
  };
  /**
   * `dicomweb.node.download` of a large study, in this host, once per run: rate, event loop,
   * memory.
   */
  download?: DownloadRun[];
  preview?: { runs: PreviewRun[]; error?: string; cine?: CineRun };
}

/** One cine report of the webview (`cineStats`): frames drawn, on its clock. */
export interface CineLoop {
  framesDrawn: number;
  elapsedMs: number;
  /** The rate asked for. */
  fps: number;
}

export interface CineRun {
  file: string;
  frames: number;
  /** ms from the command to the first frame drawn. */
  firstFrameMs: number;
  /** The first loop at the highest rate (frames fetched, decoded, cached while playing). */
  loading?: CineLoop;
  /** Later loops at the highest rate, every frame cached. */
  cached: CineLoop[];
  /** Loops at 20 frames/s asked, every frame cached. */
  at20: CineLoop[];
  error?: string;
}

export interface PreviewRun {
  ms: number;
  path: string;
  title: string;
  /** ms from the command to: its return, and the first message of each type from the webview. */
  milestones: Record<string, number>;
}

/** The open PreviewPanels (PreviewManager keeps them in a private map). */
function panelsOf(
  api: Api,
): Array<{ panel: vscode.WebviewPanel; cine(play: boolean, fps?: number): void }> {
  const panels = (
    api.services.previews as unknown as {
      panels?: Map<string, { panel: vscode.WebviewPanel; cine(play: boolean, fps?: number): void }>;
    }
  ).panels;
  return panels ? [...panels.values()] : [];
}

/**
 * Times the host's `require` of the bundle: wraps Node's CommonJS `Module._load` until
 * stop() and returns the duration of the outermost load of `bundle`.
 */
function timeBundleLoad(bundle: string): { stop: () => number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Module._load is CommonJS's internal, untyped in node:module's import
  const Module = require('node:module') as {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  };
  const original = Module._load;
  let target: string;
  try {
    target = realpathSync(bundle);
  } catch {
    target = bundle;
  }
  let measured = Number.NaN;
  let depth = 0;
  Module._load = function (this: unknown, request: string, ...rest: [unknown, boolean]) {
    let mine = false;
    try {
      mine =
        depth === 0 &&
        (request === bundle || request === target || realpathSync(request) === target);
    } catch {
      mine = false;
    }
    if (!mine) return original.call(this, request, ...rest);
    depth++;
    const started = performance.now();
    try {
      return original.call(this, request, ...rest);
    } finally {
      depth--;
      measured = performance.now() - started;
    }
  };
  return {
    stop: () => {
      Module._load = original;
      return measured;
    },
  };
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run through bench/extension.bench.ts)`);
  return value;
};

interface TreeNode {
  id: string;
  studyInstanceUid?: string;
  loadedChildren?: readonly TreeNode[];
}

/**
 * One row of the "Extension Activation Stats" table of VS Code's "Developer: Startup
 * Performance" document: the times the extension host reported to the workbench for one
 * activation (`$onExtensionActivated`). "Developer: Show Running Extensions" shows
 * `Activation: {loadCodeMs + callActivateMs} ms` from the same record.
 */
export interface VsCodeActivationTimes {
  /** Loading the extension's main module (codeLoadingTime). */
  loadCodeMs: number;
  /** The synchronous part of calling activate() (activateCallTime). */
  callActivateMs: number;
  /**
   * From the return of activate() until the promise it returned resolved (activateResolvedTime).
   */
  finishActivateMs: number;
  /** The activation event the host recorded. */
  event: string;
}

/**
 * Reads VS Code's activation records of `ids` from the workbench's own performance
 * document (scheme `perf`, the text behind "Developer: Startup Performance"); the
 * workbench fills it once startup has settled, so this polls until every id has a row.
 */
async function vscodeActivationTimes(
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, VsCodeActivationTimes>> {
  // The workbench registers the `perf` document provider lazily, with its command.
  await vscode.commands.executeCommand('perfview.show');
  try {
    const document = await vscode.workspace.openTextDocument(
      vscode.Uri.from({ scheme: 'perf', path: 'Startup Performance' }),
    );
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const rows = activationRows(document.getText(), ids);
      if (rows.size === ids.length) return rows;
      if (performance.now() > deadline) {
        throw new Error(
          `VS Code's performance document has no activation row for ${ids.filter((id) => !rows.has(id)).join(', ')} after ${timeoutMs} ms`,
        );
      }
      await sleep(250);
    }
  } finally {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
}

/** Rows of `ids` in the document's "Extension Activation Stats" Markdown table. */
function activationRows(text: string, ids: string[]): Map<string, VsCodeActivationTimes> {
  const rows = new Map<string, VsCodeActivationTimes>();
  const start = text.indexOf('## Extension Activation Stats');
  if (start < 0) return rows;
  for (const line of text.slice(start).split('\n')) {
    // | Extension | Eager | Load Code | Call Activate | Finish Activate | Event | By |
    const cells = line.split('|').map((cell) => cell.trim());
    const id = cells[1]?.toLowerCase();
    if (cells.length < 8 || !id || !ids.includes(id)) continue;
    const [loadCodeMs, callActivateMs, finishActivateMs] = [cells[3], cells[4], cells[5]].map(
      Number,
    ) as [number, number, number];
    if (![loadCodeMs, callActivateMs, finishActivateMs].every(Number.isFinite)) continue;
    rows.set(id, { loadCodeMs, callActivateMs, finishActivateMs, event: cells[6] ?? '' });
  }
  return rows;
}

/** The parts of the extension's exports (src/extension.ts) this module uses. */
interface Api {
  activationMs: number;
  services: {
    tree: {
      getChildren(node?: TreeNode): Promise<TreeNode[]>;
      refresh(node?: TreeNode): void;
    };
    treeView: vscode.TreeView<TreeNode>;
    previews: {
      onDidShowFirstFrame: vscode.Event<{ title: string; path: string; elapsedMs: number }>;
      onDidReportCineStats: vscode.Event<{
        title: string;
        framesDrawn: number;
        elapsedMs: number;
        fps: number;
        stopped: boolean;
      }>;
    };
    prompts: {
      confirm(...args: unknown[]): Promise<boolean>;
      askSecret(...args: unknown[]): Promise<string | undefined>;
    };
    extensionContext: vscode.ExtensionContext;
  };
}

const log = (line: string): void => console.log(`[bench host] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function loopDelay(histogram: IntervalHistogram): LoopDelay {
  const ms = (ns: number): number => Math.round((ns / 1e6) * 100) / 100;
  return {
    maxMs: ms(histogram.max),
    p99Ms: ms(histogram.percentile(99)),
    p50Ms: ms(histogram.percentile(50)),
    meanMs: ms(histogram.mean),
    samples: histogram.count,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Records every getChildren(server node) call the workbench (or anyone) makes. */
function instrumentTree(api: Api): {
  calls: Array<{ start: number; end?: number; rows?: number }>;
  restore: () => void;
} {
  const tree = api.services.tree as Api['services']['tree'] & {
    getChildren: Api['services']['tree']['getChildren'];
  };
  const original = tree.getChildren;
  const calls: Array<{ start: number; end?: number; rows?: number }> = [];
  tree.getChildren = async function (this: unknown, node?: TreeNode) {
    if (!node || !node.id.startsWith('server/')) return original.call(tree, node);
    const call: { start: number; end?: number; rows?: number } = { start: performance.now() };
    calls.push(call);
    const rows = await original.call(tree, node);
    call.end = performance.now();
    call.rows = rows.length;
    return rows;
  };
  return { calls, restore: () => delete (tree as { getChildren?: unknown }).getChildren };
}

/** Waits until a getChildren(server) call that started at or after `since` has resolved. */
async function providerCallAfter(
  calls: Array<{ start: number; end?: number; rows?: number }>,
  since: number,
  timeoutMs: number,
): Promise<{ start: number; end: number; rows: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const call = calls.find((c) => c.start >= since && c.end !== undefined);
    if (call) return call as { start: number; end: number; rows: number };
    if (performance.now() > deadline)
      throw new Error(
        `the workbench did not ask for the connection's children within ${timeoutMs} ms`,
      );
    await sleep(2);
  }
}

/**
 * A CPU profile of this host (node:inspector), for finding what blocks the loop (diagnosis only).
 */
async function startProfile(): Promise<{ stop: () => Promise<unknown> }> {
  const inspector = await import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) =>
      session.post(method, params ?? {}, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      return profile;
    },
  };
}

/**
 * The control: the same event-loop delay measurement in a worker thread of this host, idle
 * but for its timer. It sees what the machine does to the whole process (descheduling by
 * other processes on a busy machine, GC pauses that stop every thread), not the main
 * thread's own work.
 */
function startControl(): { stop: () => Promise<LoopDelay> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const { monitorEventLoopDelay } = require('node:perf_hooks');
     const h = monitorEventLoopDelay({ resolution: 10 });
     h.enable();
     parentPort.on('message', () => {
       h.disable();
       const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
       parentPort.postMessage({ maxMs: ms(h.max), p99Ms: ms(h.percentile(99)), p50Ms: ms(h.percentile(50)), meanMs: ms(h.mean), samples: h.count });
     });`,
    { eval: true },
  );
  return {
    stop: () =>
      new Promise<LoopDelay>((resolve, reject) => {
        worker.once('message', (delay: LoopDelay) => {
          void worker.terminate();
          resolve(delay);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

export async function measure(): Promise<HostMeasurements> {
  const parts = new Set(
    (process.env.DICOMWEB_BENCH_PARTS ?? 'activation,tree,upload,preview').split(','),
  );
  const result: HostMeasurements = {
    node: process.version,
    activation: {
      wasActiveBefore: false,
      noopFirst: false,
      hostActivateMs: Number.NaN,
      hostRequireMs: Number.NaN,
      noopActivateMs: Number.NaN,
      ownActivationMs: Number.NaN,
      warmRequireMs: [],
    },
  };
  const extension = vscode.extensions.getExtension(env('DICOMWEB_BENCH_EXTENSION_ID'));
  if (!extension) throw new Error('the extension is not loaded in this host');

  // --- activation (cold: the bench installs the extension without activation events).
  // With DICOMWEB_BENCH_NOOP_FIRST=1 a do-nothing extension is activated first, as in a real
  // window where built-in extensions (git, emmet …) have activated before ours.
  const noopFirst = process.env.DICOMWEB_BENCH_NOOP_FIRST === '1';
  const noop = process.env.DICOMWEB_BENCH_NOOP_ID
    ? vscode.extensions.getExtension(process.env.DICOMWEB_BENCH_NOOP_ID)
    : undefined;
  let noopActivateMs = Number.NaN;
  const activateNoop = async (): Promise<void> => {
    if (noop && !noop.isActive) {
      const n0 = performance.now();
      await noop.activate();
      noopActivateMs = performance.now() - n0;
    }
  };
  if (noopFirst) await activateNoop();
  const wasActiveBefore = extension.isActive;
  const loads = timeBundleLoad(join(extension.extensionPath, 'dist', 'extension.js'));
  const t0 = performance.now();
  const api = (await extension.activate()) as Api;
  const hostActivateMs = performance.now() - t0;
  const hostRequireMs = loads.stop();
  log(
    `activate(): host ${hostActivateMs.toFixed(1)} ms, own ${api.activationMs.toFixed(1)} ms, active before: ${wasActiveBefore}, after another extension: ${noopFirst}`,
  );
  // The control: an extension whose activate() does nothing, in the same host.
  if (!noopFirst) await activateNoop();
  log(
    `no-op extension activate(): host ${noopActivateMs.toFixed(1)} ms; host require of the bundle ${hostRequireMs.toFixed(1)} ms`,
  );
  result.activation = {
    wasActiveBefore,
    noopFirst,
    hostActivateMs,
    hostRequireMs,
    ownActivationMs: api.activationMs,
    noopActivateMs,
    warmRequireMs: [],
  };
  // What VS Code itself recorded for both activations (its Running Extensions view shows
  // load code + call activate as "Activation: N ms").
  const ids = [extension.id.toLowerCase(), ...(noop ? [noop.id.toLowerCase()] : [])];
  const recorded = await vscodeActivationTimes(ids, 30_000);
  result.activation.vscode = recorded.get(ids[0]!);
  if (noop) result.activation.vscodeNoop = recorded.get(ids[1]!);
  const v = result.activation.vscode!;
  log(
    `VS Code's record: load code ${v.loadCodeMs} ms, call activate ${v.callActivateMs} ms, finish activate ${v.finishActivateMs} ms (${v.event})`,
  );
  // Extra cold runs of the bench only want this figure.
  if (parts.has('cold-activation')) return result;
  api.services.prompts = { confirm: async () => true, askSecret: async () => undefined };

  const connection = await vscode.commands.executeCommand<{ id: string }>('dicomweb.server.add', {
    name: 'Orthanc (bench)',
    url: env('DICOMWEB_BENCH_DICOMWEB_URL'),
    kind: 'orthanc',
    serverRoot: env('DICOMWEB_BENCH_REST_URL'),
  });
  const probe = instrumentTree(api);
  const serverNode = async (): Promise<TreeNode> => {
    const roots = await api.services.tree.getChildren();
    const node = roots.find((root) => root.id === `server/${connection.id}`);
    if (!node) throw new Error('the connection is not a root of the tree');
    return node;
  };

  if (parts.has('tree')) {
    // --- first page: open the view; the only connection expands by itself.
    const viewOpened = performance.now();
    await vscode.commands.executeCommand('workbench.view.extension.dicomweb');
    const first = await providerCallAfter(probe.calls, viewOpened, 30_000);
    let server = await serverNode();
    let rows = await api.services.tree.getChildren(server);
    await withTimeout(
      Promise.resolve(api.services.treeView.reveal(rows[0], { select: false, focus: false })),
      30_000,
      'reveal of the first study',
    );
    const revealed = performance.now();
    const tree: NonNullable<HostMeasurements['tree']> = {
      firstPageFromViewOpenMs: first.end - viewOpened,
      firstPageProviderMs: first.end - first.start,
      firstPageRevealMs: revealed - viewOpened,
      rowsOnFirstPage: first.rows,
      refreshes: [],
      paging: {
        pages: 0,
        studiesLoaded: 0,
        perPageMs: [],
        totalMs: 0,
        loop: { maxMs: 0, p99Ms: 0, p50Ms: 0, meanMs: 0, samples: 0 },
      },
    };
    log(
      `first page: provider ${tree.firstPageProviderMs.toFixed(0)} ms, view→provider ${tree.firstPageFromViewOpenMs.toFixed(0)} ms, view→reveal ${tree.firstPageRevealMs.toFixed(0)} ms, ${first.rows} rows`,
    );

    // --- refreshes of the connection, the view visible (warm client).
    for (let i = 0; i < 5; i++) {
      await sleep(300);
      server = await serverNode();
      const started = performance.now();
      api.services.tree.refresh(server);
      const call = await providerCallAfter(probe.calls, started, 30_000);
      rows = await api.services.tree.getChildren(server);
      await withTimeout(
        Promise.resolve(api.services.treeView.reveal(rows[0], { select: false, focus: false })),
        30_000,
        'reveal after refresh',
      );
      tree.refreshes.push({
        providerMs: call.end - started,
        revealMs: performance.now() - started,
      });
    }

    // --- 20 × "Load more…" with the view visible; the workbench redraws the growing list.
    await sleep(500);
    const profiler = process.env.DICOMWEB_BENCH_CPU_PROFILE ? await startProfile() : undefined;
    const control = startControl();
    await sleep(100);
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const pagingStarted = performance.now();
    for (let page = 0; page < 20; page++) {
      const started = performance.now();
      await vscode.commands.executeCommand('dicomweb.node.loadMore', server);
      // The change event makes the workbench ask for the children again: wait for that too.
      await providerCallAfter(probe.calls, started, 30_000);
      tree.paging.perPageMs.push(performance.now() - started);
    }
    tree.paging.totalMs = performance.now() - pagingStarted;
    await sleep(300);
    histogram.disable();
    if (profiler)
      writeFileSync(process.env.DICOMWEB_BENCH_CPU_PROFILE!, JSON.stringify(await profiler.stop()));
    tree.paging.pages = 20;
    tree.paging.studiesLoaded = (await api.services.tree.getChildren(server)).filter(
      (node) => node.studyInstanceUid,
    ).length;
    tree.paging.loop = loopDelay(histogram);
    tree.paging.control = await control.stop();
    log(
      `paging: ${tree.paging.studiesLoaded} studies in ${tree.paging.totalMs.toFixed(0)} ms, loop max ${tree.paging.loop.maxMs} ms, p99 ${tree.paging.loop.p99Ms} ms; control worker max ${tree.paging.control.maxMs} ms`,
    );
    result.tree = tree;
  }

  if (parts.has('preview')) {
    result.preview = await measurePreview(api, await serverNode());
    const cineFile = process.env.DICOMWEB_BENCH_CINE_FILE;
    if (cineFile)
      result.preview.cine = await measureCine(
        api,
        cineFile,
        Number(process.env.DICOMWEB_BENCH_CINE_FRAMES ?? '0'),
      );
  }

  if (parts.has('download')) {
    // The large study the bench stored; the tree finds it like a user would.
    const studyUid = env('DICOMWEB_BENCH_DOWNLOAD_STUDY');
    const rows = await api.services.tree.getChildren(await serverNode());
    const study = rows.find((row) => row.studyInstanceUid === studyUid);
    if (!study) throw new Error(`the study ${studyUid} is not on the first page of the tree`);
    const repeats = Number(process.env.DICOMWEB_BENCH_DOWNLOAD_REPEATS ?? '3');
    result.download = [];
    for (let run = 0; run < repeats; run++) {
      const target = join(env('DICOMWEB_BENCH_DOWNLOAD_DIR'), `run-${run}`);
      await sleep(500);
      const control = startControl();
      await sleep(100);
      const base = process.memoryUsage();
      const peak = { rss: base.rss, arrayBuffers: base.arrayBuffers, heapUsed: base.heapUsed };
      const sampler = setInterval(() => {
        const now = process.memoryUsage();
        peak.rss = Math.max(peak.rss, now.rss);
        peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
        peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
      }, 10);
      const histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      const started = performance.now();
      const results = await vscode.commands.executeCommand<
        Array<{ files: unknown[]; bytes: number; writes: { sync: number; async: number } }>
      >('dicomweb.node.download', study, [study], vscode.Uri.file(target));
      const durationMs = performance.now() - started;
      histogram.disable();
      clearInterval(sampler);
      const first = results[0]!;
      const measured: DownloadRun = {
        files: first.files.length,
        bytes: first.bytes,
        durationMs,
        writes: first.writes,
        loop: loopDelay(histogram),
        control: await control.stop(),
        rssGrowth: peak.rss - base.rss,
        arrayBuffersGrowth: peak.arrayBuffers - base.arrayBuffers,
        heapUsedGrowth: peak.heapUsed - base.heapUsed,
        baseRss: base.rss,
      };
      result.download.push(measured);
      log(
        `download ${run + 1}: ${measured.files} files, ${measured.bytes} bytes in ${durationMs.toFixed(0)} ms, loop max ${measured.loop.maxMs} ms, RSS +${(measured.rssGrowth / 2 ** 20).toFixed(1)} MiB`,
      );
      await rm(target, { recursive: true, force: true });
    }
  }

  if (parts.has('upload')) {
    const folder = env('DICOMWEB_BENCH_UPLOAD_DIR');
    await sleep(500);
    const control = startControl();
    await sleep(100);
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const started = performance.now();
    const outcome = await vscode.commands.executeCommand<{
      stored: number;
      failed: number;
      outcomes: unknown[];
    }>('dicomweb.upload.fromExplorer', vscode.Uri.file(folder), [vscode.Uri.file(folder)]);
    const durationMs = performance.now() - started;
    // The tree refreshes where the data landed: its redraw belongs to the upload.
    await sleep(500);
    histogram.disable();
    result.upload = {
      files: outcome.outcomes.length,
      stored: outcome.stored,
      failed: outcome.failed,
      durationMs,
      loop: loopDelay(histogram),
      control: await control.stop(),
    };
    log(
      `upload: ${outcome.stored} stored, ${outcome.failed} failed in ${durationMs.toFixed(0)} ms, loop max ${result.upload.loop.maxMs} ms; control worker max ${result.upload.control?.maxMs} ms`,
    );
  }

  probe.restore();

  if (parts.has('activation')) {
    // The require part alone in this (now warm) host: the bundle dropped from the require
    // cache and loaded again; not activated again (a second instance would clash with the
    // first one's commands, views and output channel).
    const bundle = realpathSync(join(extension.extensionPath, 'dist', 'extension.js'));
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing`);
    const warmRequireMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      await sleep(200);
      delete require.cache[bundle];
      const r0 = performance.now();
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the measured thing: CommonJS's require of the bundle
      require(bundle);
      warmRequireMs.push(performance.now() - r0);
    }
    result.activation.warmRequireMs = warmRequireMs;
    log(`warm require: ${warmRequireMs.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  }
  return result;
}

/** Previews the first instance of a few studies, one panel at a time. */
async function measurePreview(
  api: Api,
  server: TreeNode,
): Promise<NonNullable<HostMeasurements['preview']>> {
  const runs: PreviewRun[] = [];
  const studies = (await api.services.tree.getChildren(server))
    .filter((node) => node.studyInstanceUid)
    .slice(0, 5);
  const instances: TreeNode[] = [];
  for (const study of studies) {
    const [series] = await api.services.tree.getChildren(study);
    const [instance] = series ? await api.services.tree.getChildren(series) : [];
    if (instance) instances.push(instance);
  }
  if (instances.length === 0) return { runs, error: 'no instance node found in the tree' };
  try {
    for (const instance of instances) {
      await sleep(300);
      const shown = new Promise<{ title: string; path: string }>((resolve) => {
        const subscription = api.services.previews.onDidShowFirstFrame((event) => {
          subscription.dispose();
          resolve(event);
        });
      });
      const before = new Set(panelsOf(api));
      const started = performance.now();
      await vscode.commands.executeCommand('dicomweb.instance.preview', instance);
      // The webview's messages, watched beside the panel's own listener: where the time goes.
      const milestones: Record<string, number> = { command: performance.now() - started };
      const panel = panelsOf(api).find((p) => !before.has(p));
      const watch = panel?.panel.webview.onDidReceiveMessage((message: { type?: string }) => {
        if (message?.type && milestones[message.type] === undefined)
          milestones[message.type] = performance.now() - started;
      });
      const event = await withTimeout(shown, 20_000, "the preview's first frame");
      watch?.dispose();
      const ms = performance.now() - started;
      runs.push({ ms, path: event.path, title: event.title, milestones });
      log(
        `preview ${event.title}: first frame after ${ms.toFixed(0)} ms (${event.path}; ${Object.entries(
          milestones,
        )
          .map(([k, v]) => `${k} ${v.toFixed(0)}`)
          .join(', ')})`,
      );
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
    return { runs };
  } catch (error) {
    return { runs, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Cine as drawn in the webview: `dicomweb.file.preview` of a multi-frame file, then cine
 * started from the host (the panel's `cine` message) at the highest rate the player takes
 * (120 frames/s asked: one frame per animation frame at most). The first loop fetches,
 * decodes and caches every frame; the next loops are all cached. Then cine at 20 frames/s
 * asked, the rate a user would set. The figures are the webview's `cineStats` reports.
 */
async function measureCine(api: Api, file: string, frames: number): Promise<CineRun> {
  const run: CineRun = { file, frames, firstFrameMs: Number.NaN, cached: [], at20: [] };
  const reports: CineLoop[] = [];
  let wake: (() => void) | undefined;
  const subscription = api.services.previews.onDidReportCineStats((stats) => {
    if (!stats.stopped)
      reports.push({ framesDrawn: stats.framesDrawn, elapsedMs: stats.elapsedMs, fps: stats.fps });
    wake?.();
  });
  const nextReport = async (timeoutMs: number, what: string): Promise<CineLoop> => {
    const deadline = performance.now() + timeoutMs;
    while (reports.length === 0) {
      if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return reports.shift()!;
  };
  try {
    await sleep(300);
    const shown = new Promise<void>((resolve) => {
      const once = api.services.previews.onDidShowFirstFrame(() => {
        once.dispose();
        resolve();
      });
    });
    const before = new Set(panelsOf(api));
    const started = performance.now();
    await vscode.commands.executeCommand('dicomweb.file.preview', vscode.Uri.file(file));
    await withTimeout(shown, 30_000, "the cine file's first frame");
    run.firstFrameMs = performance.now() - started;
    const panel = panelsOf(api).find((p) => !before.has(p));
    if (!panel) throw new Error('no new preview panel for the cine file');
    await sleep(500);
    panel.cine(true, 120);
    run.loading = await nextReport(120_000, 'the first cine loop');
    log(
      `cine loading loop: ${run.loading.framesDrawn} frames in ${run.loading.elapsedMs.toFixed(0)} ms`,
    );
    for (let i = 0; i < 3; i++) run.cached.push(await nextReport(30_000, 'a cached cine loop'));
    panel.cine(false);
    await sleep(300);
    reports.length = 0;
    panel.cine(true, 20);
    for (let i = 0; i < 2; i++)
      run.at20.push(await nextReport(30_000, 'a cine loop at 20 frames/s'));
    panel.cine(false);
    const rate = (loop: CineLoop): string =>
      ((loop.framesDrawn * 1000) / loop.elapsedMs).toFixed(1);
    log(
      `cine cached loops: ${run.cached.map(rate).join(', ')} frames/s (120 asked); ${run.at20.map(rate).join(', ')} frames/s (20 asked)`,
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
  } finally {
    subscription.dispose();
  }
  return run;
}
