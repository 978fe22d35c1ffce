/**
 * The three speed and memory targets of issue 2 for the DICOMweb client, measured side by
 * side against the local Orthanc in one run (see bench/README.md for what each number is):
 *
 *   store     1,000 small instances: client `storeInstances` vs plain undici with the same
 *             batching (best of a few batch/concurrency settings) vs one curl per file;
 *   retrieve  a study of ≥ 1 GiB streamed to disk: peak memory growth of the client (a
 *             child process per run) and its rate vs curl writing the same URL to a file
 *             and vs a drain-only read of it, direct and behind each bottleneck of
 *             issue 12 (a slow disk, a slow server: bench/retrieveSetups.ts);
 *   qido      paging 10,000 instances 100 a page: client vs curl on the same URLs.
 *
 * Parts can be run alone: `npm run bench -- --only client:store`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { DicomWebClient } from '../src/dicomweb/client';
import { retrieveRequest } from '../src/dicomweb/requests';
import { writeLargeStudy, writeSmallInstances } from '../test/support/bulkData';
import { median } from './stats';
import type { BenchContext, BenchResult } from './types';

// ---------------------------------------------------------------------------------------
// Settings (kept so that the whole module stays within a few minutes on 2 cores)

const STORE_COUNT = 1000;
/** Batch size × requests in flight tried for raw undici and the client alike. */
const STORE_SETTINGS: ReadonlyArray<{ batchSize: number; concurrency: number }> = [
  { batchSize: 50, concurrency: 2 },
  { batchSize: 100, concurrency: 2 },
  { batchSize: 50, concurrency: 4 },
  { batchSize: 200, concurrency: 2 },
];
/** Runs per setting and method to find the best raw setting … */
const STORE_REPEATS = 3;
/** … and runs per method at that setting for the figures (fresh data: no winner's curse). */
const STORE_CONFIRM_REPEATS = 10;
const CURL_LOOP_REPEATS = 2;

const LARGE_STUDY_BYTES = 1024 ** 3;
const LARGE_INSTANCE_BYTES = 10 * 1024 ** 2;
const RETRIEVE_REPEATS = 5;
const DRAIN_REPEATS = 3;
const MEMORY_TARGET_MIB = 64;

const QIDO_COUNT = 10_000;
const QIDO_PAGE = 100;
const QIDO_REPEATS = 3;

const CHILD_ENV = 'DICOMWEB_BENCH_CHILD';
/** Other work on the machine (other test runs) makes figures noisy: start runs in a lull. */
const QUIET_BUSY_SHARE = 0.2;
const QUIET_MAX_WAIT_MS = 10_000;

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const parts: Array<[string, (ctx: BenchContext) => Promise<BenchResult[]>]> = [
    ['store', storeBench],
    ['qido', qidoBench],
    ['retrieve', retrieveBench],
  ];
  for (const [part, bench] of parts) {
    if (!ctx.wants(part)) continue;
    try {
      results.push(...(await bench(ctx)));
    } catch (error) {
      // One broken part must not lose the others' figures: report it as a failed row.
      const message = error instanceof Error ? error.message : String(error);
      ctx.log(`${part} FAILED: ${error instanceof Error ? (error.stack ?? message) : message}`);
      results.push({
        name: `client.${part}`,
        value: NaN,
        unit: 'failed',
        target: 'runs to the end',
        pass: false,
        details: message,
      });
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------
// 1. STOW-RS: 1,000 small instances

async function storeBench(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = join(ctx.tmpDir, 'store');
  const instances = await writeSmallInstances(dir, STORE_COUNT, {
    studies: 4,
    seriesPerStudy: 2,
    seed: 'bench-store',
  });
  const files = instances.map((instance) => instance.path);
  const sizes = await Promise.all(files.map(async (file) => (await readFile(file)).length));
  const averageKiB = sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024;
  ctx.log(`store: ${files.length} instances of ${averageKiB.toFixed(1)} KiB written`);

  const key = (s: { batchSize: number; concurrency: number }): string =>
    `${s.batchSize}×${s.concurrency}`;
  const raw = new Map<string, number[]>();
  const viaClient = new Map<string, number[]>();
  const quiet = new Quietness();
  const measure = async (
    method: 'raw' | 'client',
    setting: { batchSize: number; concurrency: number },
    into: Map<string, number[]>,
  ): Promise<void> => {
    await ctx.resetOrthanc();
    await quiet.settle();
    const ms =
      method === 'raw'
        ? await rawUndiciStore(ctx.orthancDicomWebUrl, files, setting)
        : await clientStore(ctx, files, setting);
    await expectInstances(ctx, files.length, `${method} store ${key(setting)}`);
    const rate = files.length / (ms / 1000);
    push(into, `${method} ${key(setting)}`, rate);
    ctx.log(
      `store: ${method.padEnd(6)} batch ${key(setting)} → ${rate.toFixed(0)} instances/s (${ms.toFixed(0)} ms)`,
    );
  };
  // 1. Every setting, both ways, to find the best raw one.
  const explore = new Map<string, number[]>();
  for (let repeat = 0; repeat < STORE_REPEATS; repeat++) {
    for (const setting of STORE_SETTINGS) {
      // Alternate which goes first, so neither always meets a just-started server.
      for (const method of repeat % 2 === 0
        ? (['raw', 'client'] as const)
        : (['client', 'raw'] as const))
        await measure(method, setting, explore);
    }
  }
  for (const setting of STORE_SETTINGS) {
    raw.set(key(setting), explore.get(`raw ${key(setting)}`)!);
    viaClient.set(key(setting), explore.get(`client ${key(setting)}`)!);
  }
  const bestSetting = STORE_SETTINGS.reduce((a, b) =>
    median(raw.get(key(b))!) > median(raw.get(key(a))!) ? b : a,
  );
  // 2. The figures: fresh runs at that setting, alternating (the best of noisy medians
  //    would favour raw undici by its selection alone).
  const confirm = new Map<string, number[]>();
  ctx.log(
    `store: best raw setting ${key(bestSetting)}; ${STORE_CONFIRM_REPEATS} more runs each at it`,
  );
  for (let repeat = 0; repeat < STORE_CONFIRM_REPEATS; repeat++) {
    for (const method of repeat % 2 === 0
      ? (['raw', 'client'] as const)
      : (['client', 'raw'] as const))
      await measure(method, bestSetting, confirm);
  }

  const curlRates: number[] = [];
  for (let repeat = 0; repeat < CURL_LOOP_REPEATS; repeat++) {
    await ctx.resetOrthanc();
    await quiet.settle();
    const ms = await curlLoopStore(`${ctx.orthancDicomWebUrl}/studies`, dir);
    await expectInstances(ctx, files.length, 'curl loop');
    curlRates.push(files.length / (ms / 1000));
    ctx.log(
      `store: curl loop → ${curlRates[curlRates.length - 1]!.toFixed(0)} instances/s (${(ms / 1000).toFixed(1)} s)`,
    );
  }
  await ctx.resetOrthanc();
  await rm(dir, { recursive: true, force: true });

  const rawMedians = [...raw].map(([k, v]) => ({ key: k, rate: median(v) }));
  const rawRuns = confirm.get(`raw ${key(bestSetting)}`)!;
  const clientRuns = confirm.get(`client ${key(bestSetting)}`)!;
  const best = { key: key(bestSetting), rate: median(rawRuns) };
  const clientRate = median(clientRuns);
  // Run i of each alternated with run i of the other (ABBA): a pair saw the same machine.
  const pairRatios = clientRuns.map((rate, i) => rate / rawRuns[i]!);
  const clientMedians = [...viaClient].map(([k, v]) => ({ key: k, rate: median(v) }));
  const bestClient = clientMedians.reduce((a, b) => (b.rate > a.rate ? b : a));
  const curlRate = median(curlRates);
  const table = (list: Array<{ key: string; rate: number }>): string =>
    list.map((e) => `${e.key}: ${e.rate.toFixed(0)}/s`).join(', ');
  const common = `${files.length} Secondary Capture instances of ${averageKiB.toFixed(1)} KiB (4 studies × 2 series) from files on disk to an empty Orthanc (restarted before every run); every run checked to leave exactly ${files.length} instances on the server; raw and client runs alternate.${quiet.describe()}`;

  return [
    {
      name: 'client.store.rawUndici',
      value: best.rate,
      unit: 'instances/s',
      details:
        `Best raw rate: plain undici Pool, hand-built multipart/related body (files read whole with readFile, Buffer.concat, Content-Length), ` +
        `batch size × requests in flight ${best.key}, the setting with the best median of ${STORE_REPEATS} exploratory runs per setting (${table(rawMedians)}); ` +
        `the figure is the median of ${STORE_CONFIRM_REPEATS} further runs at it (${rawRuns.map((r) => r.toFixed(0)).join(', ')}/s), alternating with the client's. ${common}`,
    },
    {
      name: 'client.store.client',
      value: clientRate,
      unit: 'instances/s',
      details:
        `DicomWebClient.storeInstances(files, { batchSize, concurrency }) with the best raw setting (${best.key}), median of ${STORE_CONFIRM_REPEATS} runs (${clientRuns.map((r) => r.toFixed(0)).join(', ')}/s); ` +
        `includes reading each file's identity (a small file is read once, whole, and those bytes are sent), building the multipart body and parsing the per-instance answer. ` +
        `Exploratory medians per setting: ${table(clientMedians)} (best ${bestClient.key}).`,
    },
    {
      name: 'client.store.curlLoop',
      value: curlRate,
      unit: 'instances/s',
      details:
        `The tutorial's way: a bash loop running one \`curl --request POST …/studies --header "Accept: application/dicom+json" --header 'Content-Type: multipart/related; type="application/dicom"' --form "file1=@f;type=application/dicom"\` per file; ` +
        `median of ${CURL_LOOP_REPEATS} runs (${curlRates.map((r) => r.toFixed(0)).join(', ')}/s).`,
    },
    {
      name: 'client.store.vsRaw',
      value: clientRate / best.rate,
      unit: '×',
      target: '≥ 0.9× best raw undici',
      pass: clientRate / best.rate >= 0.9,
      details:
        `client ${clientRate.toFixed(0)}/s ÷ raw undici ${best.rate.toFixed(0)}/s (medians of ${STORE_CONFIRM_REPEATS} runs each), both at ${best.key}. ` +
        `For comparison, the median of the ${pairRatios.length} ratios of adjacent client and raw runs, which the machine's drift between minutes affects less: ` +
        `${median(pairRatios).toFixed(3)} (${pairRatios.map((r) => r.toFixed(2)).join(', ')}).`,
    },
    {
      name: 'client.store.vsCurlLoop',
      value: clientRate / curlRate,
      unit: '×',
      target: '≥ 5× curl per file',
      pass: clientRate / curlRate >= 5,
      details: `client ${clientRate.toFixed(0)}/s ÷ curl loop ${curlRate.toFixed(0)}/s.`,
    },
  ];
}

async function clientStore(
  ctx: BenchContext,
  files: string[],
  setting: { batchSize: number; concurrency: number },
): Promise<number> {
  const client = new DicomWebClient({
    baseUrl: ctx.orthancDicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: ctx.orthancRestUrl,
  });
  try {
    const started = performance.now();
    const summary = await client.storeInstances(files, setting);
    const ms = performance.now() - started;
    if (summary.stored !== files.length) {
      // Everything needed to tell a client fault from a server one: what the answer said
      // (HTTP status), whether a query confirmed the absence, and what Orthanc holds.
      const notStored = summary.outcomes.filter((o) => o.status !== 'stored');
      const sample = notStored[0];
      const held = await fetch(`${ctx.orthancRestUrl}/statistics`)
        .then(
          async (response) =>
            ((await response.json()) as { CountInstances?: number }).CountInstances,
        )
        .catch(() => undefined);
      throw new Error(
        `client stored ${summary.stored} of ${files.length} (Orthanc holds ${held}); ${notStored.length} not stored, e.g. ${sample?.status} ` +
          `(HTTP ${sample?.httpStatus}, verified by query: ${sample?.verified}): ${sample?.message ?? ''}`,
      );
    }
    return ms;
  } finally {
    await client.close();
  }
}

/** The fastest plain way: whole files in memory, one Buffer per request, an undici Pool. */
async function rawUndiciStore(
  baseUrl: string,
  files: string[],
  setting: { batchSize: number; concurrency: number },
): Promise<number> {
  const url = new URL(`${baseUrl}/studies`);
  const pool = new Pool(url.origin, { connections: setting.concurrency });
  const boundary = `bench-raw-${randomBytes(12).toString('hex')}`;
  const first = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  const next = Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  const close = Buffer.from(`\r\n--${boundary}--\r\n`);
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += setting.batchSize)
    batches.push(files.slice(i, i + setting.batchSize));
  try {
    const started = performance.now();
    let index = 0;
    const worker = async (): Promise<void> => {
      while (index < batches.length) {
        const batch = batches[index++]!;
        const bodies = await Promise.all(batch.map((file) => readFile(file)));
        const chunks: Buffer[] = [];
        bodies.forEach((body, i) => chunks.push(i === 0 ? first : next, body));
        chunks.push(close);
        const response = await pool.request({
          path: url.pathname,
          method: 'POST',
          headers: {
            accept: 'application/dicom+json',
            'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          },
          body: Buffer.concat(chunks),
        });
        const text = await response.body.text();
        if (response.statusCode !== 200)
          throw new Error(`raw STOW answered ${response.statusCode}: ${text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: setting.concurrency }, worker));
    return performance.now() - started;
  } finally {
    await pool.close();
  }
}

/** The seed tutorial's request, one curl process per file, in a shell loop. */
async function curlLoopStore(url: string, dir: string): Promise<number> {
  const script =
    'for f in "$DIR"/*.dcm; do ' +
    'curl --silent --show-error --fail --location --request POST "$URL" ' +
    '--header "Accept: application/dicom+json" ' +
    `--header 'Content-Type: multipart/related; type="application/dicom"' ` +
    '--form "file1=@$f;type=application/dicom" --output /dev/null || exit 1; ' +
    'done';
  const started = performance.now();
  const result = await exec('bash', ['-c', script], {
    env: { ...process.env, DIR: dir, URL: url },
  });
  const ms = performance.now() - started;
  if (result.code !== 0)
    throw new Error(`curl loop failed (${result.code}): ${result.stderr.slice(0, 300)}`);
  return ms;
}

// ---------------------------------------------------------------------------------------
// 2. QIDO-RS paging over 10,000 instances

async function qidoBench(ctx: BenchContext): Promise<BenchResult[]> {
  await ctx.resetOrthanc();
  const dir = join(ctx.tmpDir, 'qido');
  let started = performance.now();
  const instances = await writeSmallInstances(dir, QIDO_COUNT, {
    studies: 20,
    seriesPerStudy: 5,
    seed: 'bench-qido',
  });
  ctx.log(
    `qido: ${instances.length} instances written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const seedSetting = { batchSize: 500, concurrency: 2 };
  const urls: string[] = [];
  const client = new DicomWebClient({
    baseUrl: ctx.orthancDicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: ctx.orthancRestUrl,
    onRequest: (entry) => {
      if (entry.method === 'GET') urls.push(entry.url);
    },
  });
  let results: BenchResult[];
  try {
    started = performance.now();
    const summary = await client.storeInstances(
      instances.map((i) => i.path),
      seedSetting,
    );
    const storeMs = performance.now() - started;
    if (summary.stored !== QIDO_COUNT)
      throw new Error(`qido seeding stored ${summary.stored} of ${QIDO_COUNT}`);
    await expectInstances(ctx, QIDO_COUNT, 'qido seeding');
    await rm(dir, { recursive: true, force: true });
    ctx.log(
      `qido: ${QIDO_COUNT} instances stored through the client in ${(storeMs / 1000).toFixed(1)} s`,
    );

    const offsets = Array.from({ length: QIDO_COUNT / QIDO_PAGE }, (_, i) => i * QIDO_PAGE);
    const clientPass = async (): Promise<{ ms: number; pageMs: number[] }> => {
      const pageMs: number[] = [];
      const seen = new Set<string>();
      const t0 = performance.now();
      for (const offset of offsets) {
        const p0 = performance.now();
        const page = await client.searchPage('instances', {}, {}, offset, QIDO_PAGE);
        pageMs.push(performance.now() - p0);
        for (const item of page.items) seen.add(String(item['00080018']?.Value?.[0]));
      }
      const ms = performance.now() - t0;
      if (seen.size !== QIDO_COUNT)
        throw new Error(
          `client paging saw ${seen.size} distinct instances, expected ${QIDO_COUNT}`,
        );
      return { ms, pageMs };
    };

    // Warm-up pass (unmeasured): Orthanc's database and the files' pages come into cache,
    // and it records the exact URLs the client sends, which curl then fetches.
    urls.length = 0;
    await clientPass();
    const pageUrls = urls.slice();
    if (pageUrls.length !== offsets.length)
      throw new Error(`expected ${offsets.length} page requests, logged ${pageUrls.length}`);
    const accept = 'application/dicom+json';
    const urlFile = join(ctx.tmpDir, 'qido-urls.txt');
    await writeFile(urlFile, `${pageUrls.join('\n')}\n`);

    const clientMs: number[] = [];
    const clientPages: number[] = [];
    const keepAliveMs: number[] = [];
    const perProcessMs: number[] = [];
    let connects = 0;
    const curlKeepAlivePass = async (): Promise<number> => {
      // One curl process fetching every page in turn over one kept-alive connection.
      const args = [
        '--silent',
        '--show-error',
        '--fail',
        '--header',
        `Accept: ${accept}`,
        '--write-out',
        '%{http_code} %{size_download} %{num_connects}\\n',
      ];
      for (const url of pageUrls) args.push('--output', '/dev/null', url);
      const t0 = performance.now();
      const keepAlive = await exec('curl', args);
      const ms = performance.now() - t0;
      if (keepAlive.code !== 0)
        throw new Error(`curl (keep-alive) failed: ${keepAlive.stderr.slice(0, 300)}`);
      const lines = keepAlive.stdout.trim().split('\n');
      if (
        lines.length !== pageUrls.length ||
        lines.some((line) => !line.startsWith('200 ') || Number(line.split(' ')[1]) < 1000)
      ) {
        throw new Error(`curl (keep-alive) answers unexpected: ${lines.slice(0, 3).join(' | ')}`);
      }
      connects = lines.reduce((sum, line) => sum + Number(line.split(' ')[2]), 0);
      return ms;
    };
    const curlPerProcessPass = async (): Promise<number> => {
      // One curl process per page, as a shell loop would do.
      const t0 = performance.now();
      const perProcess = await exec(
        'bash',
        [
          '-c',
          'while read -r u; do curl --silent --show-error --fail --header "Accept: $ACCEPT" --output /dev/null "$u" || exit 1; done < "$URLS"',
        ],
        { env: { ...process.env, ACCEPT: accept, URLS: urlFile } },
      );
      const ms = performance.now() - t0;
      if (perProcess.code !== 0)
        throw new Error(`curl (per page) failed: ${perProcess.stderr.slice(0, 300)}`);
      return ms;
    };
    const quiet = new Quietness();
    const orders = [
      ['client', 'keepAlive', 'perProcess'],
      ['keepAlive', 'perProcess', 'client'],
      ['perProcess', 'client', 'keepAlive'],
    ] as const;
    for (let repeat = 0; repeat < QIDO_REPEATS; repeat++) {
      // The order rotates, so that no contender always runs first after the lull.
      for (const who of orders[repeat % orders.length]!) {
        await quiet.settle();
        if (who === 'client') {
          const pass = await clientPass();
          clientMs.push(pass.ms);
          clientPages.push(...pass.pageMs);
        } else if (who === 'keepAlive') {
          keepAliveMs.push(await curlKeepAlivePass());
        } else {
          perProcessMs.push(await curlPerProcessPass());
        }
      }
      ctx.log(
        `qido: pass ${repeat + 1}: client ${(clientMs[repeat]! / offsets.length).toFixed(2)} ms/page, ` +
          `curl keep-alive ${(keepAliveMs[repeat]! / offsets.length).toFixed(2)} ms/page, curl per page ${(perProcessMs[repeat]! / offsets.length).toFixed(2)} ms/page`,
      );
    }

    const pages = offsets.length;
    const clientPerPage = median(clientMs) / pages;
    const keepAlivePerPage = median(keepAliveMs) / pages;
    const perProcessPerPage = median(perProcessMs) / pages;
    const list = (values: number[]): string => values.map((v) => (v / pages).toFixed(2)).join(', ');
    const firstUrl = pageUrls[0]!.replace(/^https?:\/\/[^/]+/, '');
    results = [
      {
        name: 'client.qido.seedStore',
        value: storeMs / 1000,
        unit: 's',
        details: `Storing the ${QIDO_COUNT.toLocaleString('en-US')} instances (13 KiB, 20 studies × 5 series) through the client, batches of ${seedSetting.batchSize}, ${seedSetting.concurrency} in flight: ${(QIDO_COUNT / (storeMs / 1000)).toFixed(0)} instances/s. Setup, no target.`,
      },
      {
        name: 'client.qido.client',
        value: clientPerPage,
        unit: 'ms/page',
        details:
          `DicomWebClient.searchPage('instances', {}, {}, offset, ${QIDO_PAGE}) for offsets 0…${QIDO_COUNT - QIDO_PAGE} (${pages} full pages, e.g. \`GET ${firstUrl}\`), JSON parsed; ` +
          `pass time ÷ ${pages}, median of ${QIDO_REPEATS} passes after one warm-up pass (per pass: ${list(clientMs)} ms; median single page ${median(clientPages).toFixed(2)} ms). Every pass checked to see all ${QIDO_COUNT} instances once; the order of the three contenders rotates each round.${quiet.describe()}`,
      },
      {
        name: 'client.qido.curlKeepAlive',
        value: keepAlivePerPage,
        unit: 'ms/page',
        details: `One curl process fetching the same ${pages} URLs in sequence (\`curl -H "Accept: ${accept}" -o /dev/null url1 -o /dev/null url2 …\`, ${connects} connection(s) opened in the last pass: keep-alive), wall time ÷ ${pages} including its one process start; median of ${QIDO_REPEATS} (${list(keepAliveMs)} ms).`,
      },
      {
        name: 'client.qido.curlPerProcess',
        value: perProcessPerPage,
        unit: 'ms/page',
        details: `One curl process per page in a bash loop (a new process and connection each page), wall time ÷ ${pages}; median of ${QIDO_REPEATS} (${list(perProcessMs)} ms). Shown for reference; the target uses the fairer keep-alive figure.`,
      },
      {
        name: 'client.qido.vsCurl',
        value: clientPerPage / keepAlivePerPage,
        unit: '×',
        target: '≤ 1.15× curl (keep-alive)',
        pass: clientPerPage / keepAlivePerPage <= 1.15,
        details: `client ${clientPerPage.toFixed(2)} ms/page ÷ curl keep-alive ${keepAlivePerPage.toFixed(2)} ms/page (vs one curl per page: ${(clientPerPage / perProcessPerPage).toFixed(2)}×).`,
      },
    ];
  } finally {
    await client.close();
  }
  await ctx.resetOrthanc();
  return results;
}

// ---------------------------------------------------------------------------------------
// 3. WADO-RS retrieve of a ≥ 1 GiB study streamed to disk

import type { DownloadParams, DownloadRun } from './retrieveChild';
import { mountSlowDisk, startSlowServer } from './retrieveSetups';

/** Child runs that died of undici's `assert(!this.paused)` before one succeeded. */
const MAX_CRASH_RETRIES = 3;

/**
 * The setups of the retrieve benchmark (see bench/README.md): `direct` (Orthanc and the
 * page cache, as fast as this machine goes), and the two bottlenecks of issue 12 item 5,
 * `slowDisk` and `slowServer` (bench/retrieveSetups.ts). All three by default;
 * `DICOMWEB_BENCH_RETRIEVE_SETUPS=slowDisk,slowServer` picks some (for development: the
 * record then lacks the others' rows).
 */
const RETRIEVE_SETUPS = ['direct', 'slowDisk', 'slowServer'] as const;
type RetrieveSetup = (typeof RETRIEVE_SETUPS)[number];
/** The slow server's rate: well under what Orthanc serves here direct (550–700 MB/s). */
const SLOW_SERVER_BYTES_PER_SECOND = 250e6;
/** The slow disk's size: room for the 1 GB study twice over (no two contenders' files coexist). */
const SLOW_DISK_BYTES = 3 * 1024 ** 3;
/** The slow disk's write rate: well under what Orthanc serves here direct. */
const SLOW_DISK_BYTES_PER_SECOND = 200e6;
/** Each client run's wanted ratios, in every round (issue 12 item 5). */
const BOTTLENECK_RATIO_TARGET = 0.9;
/** The direct setup's target against curl (issue 2). */
const DIRECT_VS_CURL_TARGET = 0.8;

/**
 * Who runs in a round: the client's default download, the same with `syncWrites: false`
 * (every write queued for the thread pool), its undici reader, curl to a file,
 * curl to nowhere (the drain-only read), plain undici to a file, and on the slow disk `dd`
 * of the study's size from /dev/zero (the disk alone).
 */
type Contender = 'client' | 'clientQueued' | 'undiciReader' | 'curl' | 'drain' | 'plain' | 'disk';

/** One measured run of a round. */
interface RoundRun {
  who: Contender;
  ms: number;
  /** Memory figures of a Node contender. */
  run?: DownloadRun;
  /** 1-minute load average when the run started (other work on this 2-core machine). */
  load: number;
}

/** Where a setup's contenders read from and write to. */
interface SetupTarget {
  baseUrl: string;
  serverRoot: string;
  url: string;
  outDir: string;
}

interface LargeStudy {
  studyInstanceUid: string;
  instances: number;
  totalBytes: number;
  text: string;
}

/** What a setup's rounds need from the retrieve benchmark. */
interface RetrieveHarness {
  ctx: BenchContext;
  study: LargeStudy;
  accept: string;
  settle(): Promise<void>;
  childRun(
    job: 'download' | 'downloadUndici' | 'drain' | 'plainUndici',
    out: string,
    other?: Partial<DownloadParams>,
  ): Promise<DownloadRun>;
  curlRun(url: string, output: string): Promise<{ ms: number; bytes: number }>;
  rate(ms: number): string;
}

function chosenSetups(): RetrieveSetup[] {
  const asked = process.env.DICOMWEB_BENCH_RETRIEVE_SETUPS?.split(',').map((s) => s.trim());
  return RETRIEVE_SETUPS.filter((s) => !asked || asked.includes(s));
}

/** Writes the large study, stores it through the client, deletes the source files. */
async function seedLargeStudy(
  ctx: BenchContext,
  bytes: number,
  seed: string,
): Promise<{ study: LargeStudy; storeMs: number; storeSetting: string }> {
  const source = join(ctx.tmpDir, seed);
  let started = performance.now();
  const written = await writeLargeStudy(source, bytes, LARGE_INSTANCE_BYTES, { seed });
  ctx.log(
    `retrieve: ${written.instances.length} instances, ${mb(written.totalBytes).toFixed(0)} MB written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const client = new DicomWebClient({
    baseUrl: ctx.orthancDicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: ctx.orthancRestUrl,
  });
  const storeSetting = { batchSize: 10, concurrency: 2 };
  let storeMs: number;
  try {
    started = performance.now();
    const summary = await client.storeInstances(
      written.instances.map((i) => i.path),
      storeSetting,
    );
    storeMs = performance.now() - started;
    if (summary.stored !== written.instances.length)
      throw new Error(`large study: stored ${summary.stored} of ${written.instances.length}`);
  } finally {
    await client.close();
  }
  await rm(source, { recursive: true, force: true });
  return {
    study: {
      studyInstanceUid: written.studyInstanceUid,
      instances: written.instances.length,
      totalBytes: written.totalBytes,
      text: `study of ${written.instances.length} instances (${written.rows}×${written.columns} 16-bit, ${mb(written.totalBytes).toFixed(0)} MB in all)`,
    },
    storeMs,
    storeSetting: `batches of ${storeSetting.batchSize}, ${storeSetting.concurrency} in flight`,
  };
}

async function retrieveBench(ctx: BenchContext): Promise<BenchResult[]> {
  await ctx.resetOrthanc();
  const setups = chosenSetups();
  const seeded = await seedLargeStudy(ctx, LARGE_STUDY_BYTES, 'bench-large');
  const { study } = seeded;
  const MBps = (ms: number): number => mb(study.totalBytes) / (ms / 1000);
  ctx.log(
    `retrieve: stored through the client in ${(seeded.storeMs / 1000).toFixed(1)} s (${MBps(seeded.storeMs).toFixed(0)} MB/s)`,
  );
  const harness = retrieveHarness(ctx, study);
  const direct: SetupTarget = {
    baseUrl: ctx.orthancDicomWebUrl,
    serverRoot: ctx.orthancRestUrl,
    url: `${ctx.orthancDicomWebUrl}${retrieveRequest({ studyInstanceUid: study.studyInstanceUid }).path}`,
    outDir: ctx.tmpDir,
  };
  // Warm-up (unmeasured): Orthanc's files come into the page cache for every contender.
  const warm = await harness.curlRun(direct.url, '/dev/null');
  ctx.log(`retrieve: warm-up curl ${warm.bytes} bytes in ${warm.ms.toFixed(0)} ms`);

  const results: BenchResult[] = [
    {
      name: 'client.retrieve.seedStore',
      value: seeded.storeMs / 1000,
      unit: 's',
      details: `Storing the ${study.text} through the client (${seeded.storeSetting}): ${MBps(seeded.storeMs).toFixed(0)} MB/s. Setup, no target.`,
    },
  ];
  const clientRuns: Array<{ setup: string; run: DownloadRun }> = [];
  for (const setup of setups) {
    const outcome = await runSetup(harness, setup, direct);
    results.push(...outcome.results);
    clientRuns.push(...outcome.clientRuns.map((run) => ({ setup, run })));
  }
  results.push(memoryResult(clientRuns));
  if (setups.includes('direct')) results.push(...(await memoryControls(harness)));
  results.push(harness.crashResult());
  await ctx.resetOrthanc(); // frees the 1 GiB Orthanc holds
  return results;
}

/** One setup: its bottleneck put in place, its rounds, its rows; the bottleneck removed again. */
async function runSetup(
  h: RetrieveHarness & { crashResult(): BenchResult },
  setup: RetrieveSetup,
  direct: SetupTarget,
): Promise<{ results: BenchResult[]; clientRuns: DownloadRun[] }> {
  const rounds = Number(process.env.DICOMWEB_BENCH_RETRIEVE_ROUNDS) || RETRIEVE_REPEATS;
  if (setup === 'direct') {
    const runs = await runRounds(
      h,
      'direct',
      direct,
      ['client', 'curl', 'drain', 'clientQueued', 'undiciReader', 'plain'],
      rounds,
    );
    const how = `Orthanc direct on 127.0.0.1, files to the scratch folder on the VM's disk (page cache).`;
    return {
      results: setupResults(h, '', runs, how, { vsCurl: DIRECT_VS_CURL_TARGET }),
      clientRuns: clientRunsOf(runs),
    };
  }
  if (setup === 'slowDisk') {
    const disk = await mountSlowDisk(
      h.ctx.tmpDir,
      SLOW_DISK_BYTES,
      SLOW_DISK_BYTES_PER_SECOND,
      exec,
    );
    if (typeof disk === 'string') {
      h.ctx.log(`retrieve: slow disk skipped: ${disk}`);
      return { results: [skippedResult('slowDisk', disk)], clientRuns: [] };
    }
    try {
      const target = { ...direct, outDir: disk.dir };
      const runs = await runRounds(
        h,
        'slowDisk',
        target,
        ['client', 'curl', 'drain', 'clientQueued', 'undiciReader', 'disk'],
        rounds,
      );
      const how =
        `A fast server with a slow disk: Orthanc direct; curl, the client and its undici reader write to ${disk.description}. ` +
        `\`disk\` is that disk alone: \`dd if=/dev/zero bs=1M\` of the study's size into it, in each round. ` +
        `The drain-only read (curl to /dev/null) writes nothing, so it runs at the server's rate, which no writer to this disk can reach: ` +
        `the target there is the lesser of the drain-only read and the disk alone, round by round (vsBottleneck).`;
      return {
        results: setupResults(h, 'slowDisk.', runs, how, {
          vsCurl: BOTTLENECK_RATIO_TARGET,
          vsBottleneck: BOTTLENECK_RATIO_TARGET,
        }),
        clientRuns: clientRunsOf(runs),
      };
    } finally {
      await disk.release();
    }
  }
  const origin = new URL(direct.baseUrl);
  const relay = await startSlowServer(
    { host: origin.hostname, port: Number(origin.port) },
    SLOW_SERVER_BYTES_PER_SECOND,
  );
  try {
    const swap = (url: string): string => url.replace(origin.origin, relay.origin);
    const target = {
      baseUrl: swap(direct.baseUrl),
      serverRoot: swap(direct.serverRoot),
      url: swap(direct.url),
      outDir: direct.outDir,
    };
    const runs = await runRounds(
      h,
      'slowServer',
      target,
      ['client', 'curl', 'drain', 'clientQueued', 'undiciReader'],
      rounds,
    );
    const how =
      `A slow server: every contender reads through a TCP relay in the bench process (bench/retrieveSetups.ts) that forwards Orthanc's answer at ` +
      `${mb(SLOW_SERVER_BYTES_PER_SECOND).toFixed(0)} MB/s (a token bucket, 1 MiB bursts, backpressure kept); files to the scratch folder (page cache).`;
    return {
      results: setupResults(h, 'slowServer.', runs, how, {
        vsCurl: BOTTLENECK_RATIO_TARGET,
        vsDrain: BOTTLENECK_RATIO_TARGET,
      }),
      clientRuns: clientRunsOf(runs),
    };
  } finally {
    await relay.close();
  }
}

/** `dd` of `bytes` from /dev/zero into `dir` with 1 MiB writes: the disk's own rate. */
async function diskAlone(dir: string, bytes: number): Promise<number> {
  const file = join(dir, 'dd.bin');
  const started = performance.now();
  const result = await exec('dd', [
    'if=/dev/zero',
    `of=${file}`,
    'bs=1M',
    `count=${Math.ceil(bytes / 1024 ** 2)}`,
  ]);
  const ms = performance.now() - started;
  await rm(file, { force: true });
  if (result.code !== 0) throw new Error(`dd failed: ${result.stderr.slice(0, 300)}`);
  return ms;
}

function skippedResult(setup: string, reason: string): BenchResult {
  return {
    name: `client.retrieve.${setup}`,
    value: NaN,
    unit: 'skipped',
    target: 'measured',
    pass: false,
    details: reason,
  };
}

function clientRunsOf(rounds: RoundRun[][]): DownloadRun[] {
  return rounds.flat().flatMap((r) => (r.who === 'client' && r.run ? [r.run] : []));
}

/**
 * `count` rounds of every contender, in an order that rotates each round, each run after `sync`.
 */
async function runRounds(
  h: RetrieveHarness,
  setup: string,
  target: SetupTarget,
  contenders: Contender[],
  count: number,
): Promise<RoundRun[][]> {
  const rounds: RoundRun[][] = [];
  for (let round = 0; round < count; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
    const runs: RoundRun[] = [];
    for (const who of order) {
      await h.settle();
      const load = loadavg()[0]!;
      const run = await runContender(h, who, target);
      runs.push({ ...run, who, load });
      const memory = run.run ? `, peak RSS growth ${mib(growth(run.run)).toFixed(1)} MiB` : '';
      const writes = run.run?.writes
        ? `, writes ${run.run.writes.sync} sync / ${run.run.writes.async} async`
        : '';
      h.ctx.log(
        `retrieve: ${setup} round ${round + 1} ${who.padEnd(12)} ${h.rate(run.ms)}${memory}${writes} (load ${load.toFixed(2)})`,
      );
    }
    const ms = (who: Contender): number | undefined => runs.find((r) => r.who === who)?.ms;
    const client = ms('client')!;
    h.ctx.log(
      `retrieve: ${setup} round ${round + 1}: client/curl ${(ms('curl')! / client).toFixed(3)}, client/drain ${(ms('drain')! / client).toFixed(3)}` +
        (ms('undiciReader')
          ? `, undiciReader/curl ${(ms('curl')! / ms('undiciReader')!).toFixed(3)}, undiciReader/drain ${(ms('drain')! / ms('undiciReader')!).toFixed(3)}`
          : ''),
    );
    rounds.push(runs);
  }
  return rounds;
}

async function runContender(
  h: RetrieveHarness,
  who: Contender,
  target: SetupTarget,
): Promise<{ ms: number; run?: DownloadRun }> {
  const { study } = h;
  const where = { baseUrl: target.baseUrl, serverRoot: target.serverRoot, url: target.url };
  if (who === 'disk') return { ms: await diskAlone(target.outDir, study.totalBytes) };
  if (who === 'curl' || who === 'drain') {
    const output = who === 'curl' ? join(target.outDir, 'curl-study.multipart') : '/dev/null';
    return { ms: (await h.curlRun(target.url, output)).ms };
  }
  if (who === 'plain') {
    const r = await h.childRun('plainUndici', join(target.outDir, 'plain-study.multipart'), where);
    if (r.bytes < study.totalBytes)
      throw new Error(`plain undici got ${r.bytes} bytes, the study has ${study.totalBytes}`);
    return { ms: r.ms, run: r };
  }
  const reader = who === 'undiciReader' ? 'undici' : 'socket';
  const job = who === 'undiciReader' ? 'downloadUndici' : 'download';
  const options = who === 'clientQueued' ? { syncWrites: false } : undefined;
  const r = await h.childRun(job, join(target.outDir, `${who}-study`), { ...where, options });
  if (r.files !== study.instances || r.bytes !== study.totalBytes)
    throw new Error(
      `${who} wrote ${r.files} files / ${r.bytes} bytes, the study has ${study.instances} / ${study.totalBytes}`,
    );
  if (r.reader !== reader)
    throw new Error(`${who}: the download was read by ${r.reader}, not ${reader}`);
  return { ms: r.ms, run: r };
}

/** The rows of one setup: each contender's median rate, and the client's ratios round by round. */
function setupResults(
  h: RetrieveHarness & { quietText?: () => string },
  prefix: string,
  rounds: RoundRun[][],
  how: string,
  targets: { vsCurl?: number; vsDrain?: number; vsBottleneck?: number },
): BenchResult[] {
  const { study } = h;
  const MBps = (ms: number): number => mb(study.totalBytes) / (ms / 1000);
  const times = (who: Contender): number[] =>
    rounds.flatMap((r) => r.filter((x) => x.who === who).map((x) => x.ms));
  const has = (who: Contender): boolean => times(who).length > 0;
  const list = (who: Contender): string =>
    times(who)
      .map((ms) => ms.toFixed(0))
      .join(', ');
  const loads = rounds.map((r) => Math.max(...r.map((x) => x.load)).toFixed(2)).join(', ');
  /** a's rate ÷ b's rate in each round (the same minutes, so the machine's drift cancels). */
  const ratios = (a: Contender, b: Contender): number[] =>
    rounds.map((r) => r.find((x) => x.who === b)!.ms / r.find((x) => x.who === a)!.ms);
  const name = (n: string): string => `client.retrieve.${prefix}${n}`;
  const rows: BenchResult[] = [];
  const rateRow = (who: Contender, n: string, what: string): void => {
    if (!has(who)) return;
    rows.push({
      name: name(n),
      value: MBps(median(times(who))),
      unit: 'MB/s',
      details: `${what}; median of ${times(who).length} (${list(who)} ms). ${how}`,
    });
  };
  rateRow(
    'client',
    'client',
    `DicomWebClient.downloadToDirectory({ studyInstanceUid }, dir) (\`Accept: ${h.accept}\`): each part streamed to its own file, then renamed by its SOPInstanceUID; read straight from the socket (src/dicomweb/transport/socketGet.ts; every run checked DownloadResult.reader === 'socket'); in a fresh Node process per run, timed from the call to its return. ${study.text}; MB = 10^6 bytes`,
  );
  rateRow(
    'curl',
    'curl',
    `\`curl -H "Accept: …" -o file URL\` (the whole multipart answer into one file), curl's own time_total`,
  );
  rateRow(
    'drain',
    'drain',
    `Drain-only read of the same answer: \`curl -H "Accept: …" -o /dev/null URL\` (curl's HTTP stack, nothing written), curl's own time_total`,
  );
  rateRow(
    'plain',
    'plainUndici',
    `Reference: undici.request() piped to one file with stream.pipeline (no multipart parsing, no per-instance files), a fresh Node process per run; Node's usual way`,
  );
  rateRow(
    'disk',
    'diskAlone',
    `The slow disk alone: \`dd if=/dev/zero bs=1M\` of the study's size into it, timed from start to exit`,
  );
  rateRow(
    'clientQueued',
    'clientQueued',
    `Control: the client's download with \`syncWrites: false\`: every batch queued for the thread pool and written while reading goes on, from the first byte (the default writes on the reading thread while writes take under 15 ms, queued from the first slower one)`,
  );
  rateRow(
    'undiciReader',
    'undiciReader',
    `The client's other reader: the same download with \`socketRead: false\` (undici and the streaming multipart parser, as through a proxy dispatcher), checked DownloadResult.reader === 'undici'`,
  );
  const ratioRow = (a: Contender, b: Contender, n: string, target: number | undefined): void => {
    if (!has(a) || !has(b)) return;
    const each = ratios(a, b);
    const worst = Math.min(...each);
    rows.push({
      name: name(n),
      value: worst,
      unit: '×',
      ...(target !== undefined
        ? {
            target: `≥ ${target}× ${b === 'drain' ? 'drain-only read' : b} in every round`,
            pass: worst >= target,
          }
        : {}),
      details:
        `Worst round of ${each.length}: ${a} ÷ ${b === 'drain' ? 'drain-only read' : b}, each round's two runs minutes apart at most (order rotating, each after \`sync\`); ` +
        `per round ${each.map((v) => v.toFixed(3)).join(', ')} (medians: ${(median(times(b)) / median(times(a))).toFixed(3)}). ` +
        `Highest 1-minute load average per round (2 cores, shared): ${loads}.${h.quietText?.() ?? ''}`,
    });
  };
  ratioRow('client', 'curl', 'vsCurl', targets.vsCurl);
  ratioRow('client', 'drain', 'vsDrain', targets.vsDrain);
  if (has('disk')) {
    // The slowest of server (drain) and disk (dd) in each round: what any writer could reach.
    const each = rounds.map((r) => {
      const of = (who: Contender): number => r.find((x) => x.who === who)!.ms;
      return Math.max(of('drain'), of('disk')) / of('client');
    });
    const worst = Math.min(...each);
    const target = targets.vsBottleneck;
    rows.push({
      name: name('vsBottleneck'),
      value: worst,
      unit: '×',
      ...(target !== undefined
        ? {
            target: `≥ ${target}× the lesser of drain-only read and disk alone, every round`,
            pass: worst >= target,
          }
        : {}),
      details: `Worst round of ${each.length}: client ÷ the slower of the drain-only read and the disk alone in the same round; per round ${each.map((v) => v.toFixed(3)).join(', ')}. Highest 1-minute load average per round: ${loads}.`,
    });
  }
  ratioRow('clientQueued', 'curl', 'clientQueuedVsCurl', undefined);
  ratioRow('undiciReader', 'curl', 'undiciReaderVsCurl', undefined);
  ratioRow('undiciReader', 'drain', 'undiciReaderVsDrain', undefined);
  return rows;
}

function perRunMemory(runs: DownloadRun[]): string {
  return runs
    .map(
      (r) =>
        `${mib(growth(r)).toFixed(1)} MiB (arrayBuffers +${mib(r.peakArrayBuffers - r.baseArrayBuffers).toFixed(1)}, heapUsed +${mib(r.peakHeapUsed - r.baseHeapUsed).toFixed(1)})`,
    )
    .join('; ');
}

function memoryResult(clientRuns: Array<{ setup: string; run: DownloadRun }>): BenchResult {
  const worst = Math.max(...clientRuns.map((r) => growth(r.run)));
  const kernelPeaks = clientRuns.every((r) => r.run.peakRssKernel !== undefined);
  const setups = [...new Set(clientRuns.map((r) => r.setup))];
  return {
    name: 'client.retrieve.memoryGrowth',
    value: mib(worst),
    unit: 'MiB',
    target: `< ${MEMORY_TARGET_MIB} MiB`,
    pass: mib(worst) < MEMORY_TARGET_MIB,
    details:
      `Worst of ${clientRuns.length} client runs (every setup): peak resident set size during the download minus the RSS just before it, in the child process ` +
      `(${kernelPeaks ? 'kernel VmHWM, reset via /proc/self/clear_refs just before the call, and ' : ''}process.memoryUsage() sampled every 10 ms; the larger counts). ` +
      setups
        .map(
          (s) => `${s}: ${perRunMemory(clientRuns.filter((r) => r.setup === s).map((r) => r.run))}`,
        )
        .join('. ') +
      `. Baseline RSS ≈ ${clientRuns.length ? mib(clientRuns[0]!.run.baseRss).toFixed(0) : '?'} MiB.`,
  };
}

/**
 * Memory controls of the direct setup: a drain through the client's stream, and a study twice as
 * large.
 */
async function memoryControls(h: RetrieveHarness): Promise<BenchResult[]> {
  const { ctx, study } = h;
  const MBps = (ms: number, bytes = study.totalBytes): number => mb(bytes) / (ms / 1000);
  // Control: the same retrieve with the bodies read and dropped (what the network buffers cost
  // alone).
  const drainRuns: DownloadRun[] = [];
  for (let repeat = 0; repeat < DRAIN_REPEATS; repeat++) {
    await h.settle();
    const r = await h.childRun('drain', join(ctx.tmpDir, 'drain-unused'));
    if (r.bytes !== study.totalBytes)
      throw new Error(`drain read ${r.bytes} bytes, the study has ${study.totalBytes}`);
    drainRuns.push(r);
    ctx.log(
      `retrieve: client.retrieve() drained ${h.rate(r.ms)}, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB`,
    );
  }
  // Scale check: the same download of a study twice as large. Memory that followed the
  // size of the study would show here; dead buffers waiting for the collector would not.
  const { study: double } = await seedLargeStudy(ctx, 2 * LARGE_STUDY_BYTES, 'bench-large-2x');
  const doubleRuns: DownloadRun[] = [];
  for (let repeat = 0; repeat < DRAIN_REPEATS; repeat++) {
    await h.settle();
    const r = await h.childRun('download', join(ctx.tmpDir, 'client-study-2x'), {
      studyInstanceUid: double.studyInstanceUid,
    });
    if (r.files !== double.instances || r.bytes !== double.totalBytes)
      throw new Error(`2× study: the client wrote ${r.files} files / ${r.bytes} bytes`);
    doubleRuns.push(r);
    ctx.log(
      `retrieve: client, 2× study ${MBps(r.ms, double.totalBytes).toFixed(0)} MB/s, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB`,
    );
  }
  return [
    {
      name: 'client.retrieve.drainMemoryGrowth',
      value: mib(Math.max(...drainRuns.map(growth))),
      unit: 'MiB',
      details:
        `Control for memory, measured like the client's: client.retrieve() (undici and the streaming parser) of the same study with every part body read and dropped (no file is opened, nothing is written), ` +
        `worst of ${DRAIN_REPEATS}. Per run: ${perRunMemory(drainRuns)}; ${drainRuns.map((r) => `${MBps(r.ms).toFixed(0)} MB/s`).join(', ')}. ` +
        `What the stream of 64 KiB network buffers costs before the client does anything with them: V8 frees them only at its next full collection, which it starts when ` +
        `about 64 MiB of such external memory has piled up since the last one.`,
    },
    {
      name: 'client.retrieve.memoryGrowthDoubleStudy',
      value: mib(Math.max(...doubleRuns.map(growth))),
      unit: 'MiB',
      details:
        `Scale check, measured the same way: the client's download (direct) of a ${double.text}, ` +
        `worst of ${DRAIN_REPEATS}. Per run: ${perRunMemory(doubleRuns)}; ${doubleRuns.map((r) => `${MBps(r.ms, double.totalBytes).toFixed(0)} MB/s`).join(', ')}. ` +
        `Memory that followed the size of the study would about double against the 1 GB study's; dead buffers waiting for the collector would not.`,
    },
  ];
}

/** Child runs, curl runs and the pause before each, shared by every setup. */
function retrieveHarness(
  ctx: BenchContext,
  study: LargeStudy,
): RetrieveHarness & { crashResult(): BenchResult; quietText(): string } {
  const spec = retrieveRequest({ studyInstanceUid: study.studyInstanceUid });
  const accept = spec.headers.accept!;
  const quiet = new Quietness();
  let crashes = 0;
  const crashNotes: string[] = [];
  const params = (out: string): DownloadParams => ({
    baseUrl: ctx.orthancDicomWebUrl,
    serverRoot: ctx.orthancRestUrl,
    studyInstanceUid: study.studyInstanceUid,
    url: `${ctx.orthancDicomWebUrl}${spec.path}`,
    accept,
    out,
  });
  return {
    ctx,
    study,
    accept,
    rate: (ms) => `${(mb(study.totalBytes) / (ms / 1000)).toFixed(0)} MB/s (${ms.toFixed(0)} ms)`,
    // Each run starts with no dirty pages of the previous one still to be written back.
    settle: async () => {
      await exec('sync', []);
      await quiet.settle();
    },
    quietText: () => quiet.describe(),
    /** A child run; one that undici's assertion killed is counted and run again. */
    childRun: async (job, out, other) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await runChild<DownloadRun>(job, { ...params(out), ...other });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (!/assert\(!this\.paused\)/.test(message) || attempt >= MAX_CRASH_RETRIES) throw error;
          crashes++;
          crashNotes.push(job);
          ctx.log(
            `retrieve: the ${job} child died of undici's assert(!this.paused) (undici #5360); running it again`,
          );
        } finally {
          await rm(out, { recursive: true, force: true });
        }
      }
    },
    curlRun: async (url, output) => {
      const result = await exec('curl', [
        '--silent',
        '--show-error',
        '--fail',
        '--header',
        `Accept: ${accept}`,
        '--output',
        output,
        '--write-out',
        '%{time_total} %{size_download}',
        url,
      ]);
      if (output !== '/dev/null') await rm(output, { force: true });
      if (result.code !== 0)
        throw new Error(`curl retrieve failed: ${result.stderr.slice(0, 300)}`);
      const [seconds, bytes] = result.stdout.trim().split(' ').map(Number) as [number, number];
      if (bytes < study.totalBytes)
        throw new Error(`curl got ${bytes} bytes, the study has ${study.totalBytes}`);
      return { ms: seconds * 1000, bytes };
    },
    crashResult: () => ({
      name: 'client.retrieve.undiciCrashes',
      value: crashes,
      unit: 'runs',
      target: '0',
      pass: crashes === 0,
      details:
        `Child runs killed by undici's uncatchable \`AssertionError: assert(!this.paused)\` (Parser.finish from the socket's 'end' handler; nodejs/undici#5360, fixed in undici 8): ` +
        `Orthanc ends a multipart answer by closing the connection, and when that FIN arrives while the body is paused by backpressure the process dies. ` +
        `Such runs were repeated and are not in the figures above.${crashNotes.length ? ` Crashed: ${crashNotes.join(', ')}.` : ''}`,
    }),
  };
}

function growth(r: DownloadRun): number {
  return Math.max(r.peakRssSampled, r.peakRssKernel ?? 0) - r.baseRss;
}

// ---------------------------------------------------------------------------------------
// Child processes: bench/retrieveChild.ts, bundled on its own (out/bench/retrieveChild.cjs)

const RESULT_MARK = 'BENCH_CHILD_RESULT ';

/**
 * Runs a download in a fresh Node process that loads only the client (or only undici for
 * the reference). It used to be this whole bench bundle: with the harness and undici loaded
 * up front, V8 ran about 4× as many full collections for the same stream of 64 KiB network
 * buffers (56 vs 9–16 mark-compacts per 1 GB, --trace-gc) and the same download took
 * 1.4–1.65 s instead of 1.15–1.25 s; a figure of the harness, not of the client.
 */
async function runChild<T>(job: string, params: unknown): Promise<T> {
  const result = await exec(
    process.execPath,
    ['--expose-gc', join(__dirname, 'retrieveChild.cjs')],
    {
      env: { ...process.env, [CHILD_ENV]: job, DICOMWEB_BENCH_PARAMS: JSON.stringify(params) },
    },
  );
  const line = result.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (result.code !== 0 || !line)
    throw new Error(`bench child "${job}" failed (${result.code}): ${result.stderr.slice(-1000)}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}

// ---------------------------------------------------------------------------------------
// Helpers

/** Share of all CPUs busy over `ms`, from /proc/stat (undefined off Linux). */
async function cpuBusy(ms: number): Promise<number | undefined> {
  const read = (): { idle: number; total: number } | undefined => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8')
        .split('\n')[0]!
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number);
      const idle = fields[3]! + (fields[4] ?? 0);
      return { idle, total: fields.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const a = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = read();
  if (!a || !b || b.total === a.total) return undefined;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (at most `QUIET_MAX_WAIT_MS`) until the machine is mostly idle, so that a run does
 * not start in the middle of someone else's burst; returns the busy share last seen.
 */
async function waitForQuiet(): Promise<number | undefined> {
  const deadline = performance.now() + QUIET_MAX_WAIT_MS;
  for (;;) {
    const busy = await cpuBusy(250);
    if (busy === undefined || busy <= QUIET_BUSY_SHARE || performance.now() > deadline) return busy;
  }
}

/** Records what the machine was doing besides the benchmark before each measured run. */
class Quietness {
  private readonly busy: number[] = [];
  async settle(): Promise<void> {
    const busy = await waitForQuiet();
    if (busy !== undefined) this.busy.push(busy);
  }
  describe(): string {
    if (this.busy.length === 0) return '';
    const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
    return ` Before each run the bench waited up to ${QUIET_MAX_WAIT_MS / 1000} s for the CPUs to be ≤ ${pct(QUIET_BUSY_SHARE)} busy: median busy share then ${pct(median(this.busy))}, worst ${pct(Math.max(...this.busy))}.`;
  }
}

async function expectInstances(ctx: BenchContext, expected: number, what: string): Promise<void> {
  const response = await fetch(`${ctx.orthancRestUrl}/statistics`);
  const stats = (await response.json()) as { CountInstances?: number };
  if (stats.CountInstances !== expected)
    throw new Error(
      `${what}: Orthanc holds ${stats.CountInstances} instances, expected ${expected}`,
    );
}

function exec(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }),
    );
  });
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

function mb(bytes: number): number {
  return bytes / 1e6;
}

function mib(bytes: number): number {
  return bytes / 1024 ** 2;
}
