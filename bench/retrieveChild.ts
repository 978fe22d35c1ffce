/**
 * The child process of the retrieve benchmark (bench/client.bench.ts): one measured
 * download of the 1 GB study, by the client or by plain undici, with a memory watch.
 *
 * Bundled on its own (scripts/bench.mjs) so that the process holds what a program using
 * the client holds and nothing of the benchmark harness: V8 collects the stream of 64 KiB
 * network buffers with full collections whose number and cost grow with what else the
 * heap holds (see runChild in client.bench.ts).
 *
 * Run as `node --expose-gc out/bench/retrieveChild.cjs` with DICOMWEB_BENCH_CHILD=<job> and
 * DICOMWEB_BENCH_PARAMS=<json>; prints one `BENCH_CHILD_RESULT {json}` line.
 */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { DicomWebClient } from '../src/dicomweb/client';

/** What a measured download in a child process reports. */
export interface DownloadRun {
  ms: number;
  files: number;
  bytes: number;
  baseRss: number;
  peakRssSampled: number;
  /** VmHWM after resetting it just before the download (Linux), when that worked. */
  peakRssKernel?: number;
  baseArrayBuffers: number;
  peakArrayBuffers: number;
  baseHeapUsed: number;
  peakHeapUsed: number;
  samples: number;
  /** Which reader carried a client download (DownloadResult.reader). */
  reader?: string;
  /** Batches written synchronously and through the thread pool (DownloadResult.writes). */
  writes?: { sync: number; async: number };
}

export interface DownloadParams {
  baseUrl: string;
  serverRoot: string;
  studyInstanceUid: string;
  url: string;
  accept: string;
  out: string;
  /** Download options of a client run besides the reader (the benchmark's write-mode control). */
  options?: { syncWrites?: boolean };
}

/** Runs `work` with a memory watch: RSS, arrayBuffers and heap sampled every 10 ms, and VmHWM. */
async function watchMemory(
  work: () => Promise<{
    files: number;
    bytes: number;
    reader?: string;
    writes?: { sync: number; async: number };
  }>,
): Promise<DownloadRun> {
  (globalThis as { gc?: () => void }).gc?.();
  let kernelReset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
    kernelReset = true;
  } catch {
    kernelReset = false;
  }
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakArrayBuffers = base.arrayBuffers;
  let peakHeap = base.heapUsed;
  let samples = 0;
  const sample = (): void => {
    const now = process.memoryUsage();
    samples++;
    if (now.rss > peakRss) peakRss = now.rss;
    if (now.arrayBuffers > peakArrayBuffers) peakArrayBuffers = now.arrayBuffers;
    if (now.heapUsed > peakHeap) peakHeap = now.heapUsed;
  };
  const timer = setInterval(sample, 10);
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  clearInterval(timer);
  sample();
  let peakRssKernel: number | undefined;
  if (kernelReset) {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm) peakRssKernel = Number(hwm) * 1024;
  }
  return {
    ms,
    files: result.files,
    bytes: result.bytes,
    reader: result.reader,
    writes: result.writes,
    baseRss: base.rss,
    peakRssSampled: peakRss,
    peakRssKernel,
    baseArrayBuffers: base.arrayBuffers,
    peakArrayBuffers,
    baseHeapUsed: base.heapUsed,
    peakHeapUsed: peakHeap,
    samples,
  };
}

/** Child job: the client's download of the study to a folder (read straight from the socket). */
function downloadChild(params: DownloadParams): Promise<DownloadRun> {
  return clientDownload(params, true);
}

/** Child job, a control: the same download through undici, the reader behind a proxy dispatcher. */
function downloadUndiciChild(params: DownloadParams): Promise<DownloadRun> {
  return clientDownload(params, false);
}

/**
 * Download options for trying a variant without editing the client (development only):
 * `DICOMWEB_BENCH_DOWNLOAD_OPTIONS='{"slowWriteMs":5}'`. Unset in recorded runs.
 */
function developmentOptions(): Record<string, unknown> {
  const text = process.env.DICOMWEB_BENCH_DOWNLOAD_OPTIONS;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function clientDownload(params: DownloadParams, socketRead: boolean): Promise<DownloadRun> {
  const client = new DicomWebClient({
    baseUrl: params.baseUrl,
    serverKind: 'orthanc',
    serverRoot: params.serverRoot,
  });
  await mkdir(params.out, { recursive: true });
  try {
    return await watchMemory(async () => {
      const result = await client.downloadToDirectory(
        { studyInstanceUid: params.studyInstanceUid },
        params.out,
        { socketRead, ...params.options, ...developmentOptions() },
      );
      return {
        files: result.files.length,
        bytes: result.bytes,
        reader: result.reader,
        writes: result.writes,
      };
    });
  } finally {
    await client.close();
  }
}

/**
 * Child job, a control for memory: the client's retrieve() (undici and the streaming
 * parser) with every part body read and dropped (no file, no write). What remains is the
 * stream of per-read network buffers itself, which the socket reader of the download avoids.
 */
async function drainChild(params: DownloadParams): Promise<DownloadRun> {
  const client = new DicomWebClient({
    baseUrl: params.baseUrl,
    serverKind: 'orthanc',
    serverRoot: params.serverRoot,
  });
  try {
    return await watchMemory(async () => {
      let files = 0;
      let bytes = 0;
      for await (const part of client.retrieve({ studyInstanceUid: params.studyInstanceUid })) {
        files++;
        for await (const chunk of part.body) bytes += chunk.byteLength;
      }
      return { files, bytes };
    });
  } finally {
    await client.close();
  }
}

/** Child job: the reference, undici.request() piped to one file. */
async function plainUndiciChild(params: DownloadParams): Promise<DownloadRun> {
  // Loaded here, not at the top: the client child loads undici only when it first sends too.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a late, synchronous load on purpose (above)
  const { Agent, request } = require('undici') as typeof import('undici');
  const agent = new Agent();
  try {
    return await watchMemory(async () => {
      const response = await request(params.url, {
        headers: { accept: params.accept },
        dispatcher: agent,
      });
      if (response.statusCode !== 200) throw new Error(`plain undici: HTTP ${response.statusCode}`);
      let bytes = 0;
      await pipeline(
        response.body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(params.out),
      );
      return { files: 1, bytes };
    });
  } finally {
    await agent.close();
  }
}

const CHILD_JOBS: Record<string, (params: DownloadParams) => Promise<DownloadRun>> = {
  download: downloadChild,
  downloadUndici: downloadUndiciChild,
  drain: drainChild,
  plainUndici: plainUndiciChild,
};
const RESULT_MARK = 'BENCH_CHILD_RESULT ';
const job = CHILD_JOBS[process.env.DICOMWEB_BENCH_CHILD ?? ''];
if (!job) {
  console.error(`unknown bench child job ${process.env.DICOMWEB_BENCH_CHILD}`);
  process.exit(2);
}
job(JSON.parse(process.env.DICOMWEB_BENCH_PARAMS ?? '{}') as DownloadParams).then(
  (value) => {
    process.stdout.write(`${RESULT_MARK}${JSON.stringify(value)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
