/**
 * The three speed and memory targets of issue 2 for the DICOMweb client, measured side by
 * side against the local Orthanc in one run (see bench/README.md for what each number is):
 *
 *   store     1,000 small instances: client `storeInstances` vs plain undici with the same
 *             batching (best of a few batch/concurrency settings) vs one curl per file;
 *   retrieve  a study of ≥ 1 GiB streamed to disk: peak memory growth of the client (a
 *             child process per run) and its rate vs curl writing the same URL to a file;
 *   qido      paging 10,000 instances 100 a page: client vs curl on the same URLs.
 *
 * Parts can be run alone: `npm run bench -- --only client:store`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { DicomWebClient } from '../src/dicomweb/client';
import { retrieveRequest } from '../src/dicomweb/requests';
import { writeLargeStudy, writeSmallInstances } from '../test/support/bulkData';
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

/** Child runs that died of undici's `assert(!this.paused)` before one succeeded. */
const MAX_CRASH_RETRIES = 3;

async function retrieveBench(ctx: BenchContext): Promise<BenchResult[]> {
  await ctx.resetOrthanc();
  const source = join(ctx.tmpDir, 'large');
  let started = performance.now();
  const study = await writeLargeStudy(source, LARGE_STUDY_BYTES, LARGE_INSTANCE_BYTES, {
    seed: 'bench-large',
  });
  ctx.log(
    `retrieve: ${study.instances.length} instances, ${mb(study.totalBytes).toFixed(0)} MB written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const client = new DicomWebClient({
    baseUrl: ctx.orthancDicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: ctx.orthancRestUrl,
  });
  let storeMs: number;
  const storeSetting = { batchSize: 10, concurrency: 2 };
  try {
    started = performance.now();
    const summary = await client.storeInstances(
      study.instances.map((i) => i.path),
      storeSetting,
    );
    storeMs = performance.now() - started;
    if (summary.stored !== study.instances.length)
      throw new Error(`large study: stored ${summary.stored} of ${study.instances.length}`);
  } finally {
    await client.close();
  }
  await rm(source, { recursive: true, force: true });
  ctx.log(
    `retrieve: stored through the client in ${(storeMs / 1000).toFixed(1)} s (${(mb(study.totalBytes) / (storeMs / 1000)).toFixed(0)} MB/s)`,
  );

  const spec = retrieveRequest({ studyInstanceUid: study.studyInstanceUid });
  const url = `${ctx.orthancDicomWebUrl}${spec.path}`;
  const accept = spec.headers.accept!;
  const params = (out: string): DownloadParams => ({
    baseUrl: ctx.orthancDicomWebUrl,
    serverRoot: ctx.orthancRestUrl,
    studyInstanceUid: study.studyInstanceUid,
    url,
    accept,
    out,
  });
  let crashes = 0;
  const crashNotes: string[] = [];
  /** A child run; one that undici's assertion killed is counted and run again. */
  const childRun = async (
    job: 'download' | 'downloadUndici' | 'drain' | 'plainUndici',
    out: string,
    other?: Partial<DownloadParams>,
  ): Promise<DownloadRun> => {
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
  };
  const curlFile = join(ctx.tmpDir, 'curl-study.multipart');
  const curlRun = async (): Promise<{ ms: number; bytes: number }> => {
    const result = await exec('curl', [
      '--silent',
      '--show-error',
      '--fail',
      '--header',
      `Accept: ${accept}`,
      '--output',
      curlFile,
      '--write-out',
      '%{time_total} %{size_download}',
      url,
    ]);
    await rm(curlFile, { force: true });
    if (result.code !== 0) throw new Error(`curl retrieve failed: ${result.stderr.slice(0, 300)}`);
    const [seconds, bytes] = result.stdout.trim().split(' ').map(Number) as [number, number];
    if (bytes < study.totalBytes)
      throw new Error(`curl got ${bytes} bytes, the study has ${study.totalBytes}`);
    return { ms: seconds * 1000, bytes };
  };
  // Each run starts with no dirty pages of the previous one still to be written back.
  const settle = async (): Promise<void> => {
    await exec('sync', []);
    await quiet.settle();
  };

  // Warm-up (unmeasured): Orthanc's files come into the page cache for every contender.
  const quiet = new Quietness();
  const warm = await curlRun();
  ctx.log(`retrieve: warm-up curl ${warm.bytes} bytes in ${warm.ms.toFixed(0)} ms`);
  const curlMs: number[] = [];
  const clientRuns: DownloadRun[] = [];
  const plainRuns: DownloadRun[] = [];
  const rate = (ms: number): string =>
    `${(mb(study.totalBytes) / (ms / 1000)).toFixed(0)} MB/s (${ms.toFixed(0)} ms)`;
  for (let repeat = 0; repeat < RETRIEVE_REPEATS; repeat++) {
    const order = [
      ['client', 'curl', 'plain'],
      ['curl', 'plain', 'client'],
      ['plain', 'client', 'curl'],
    ][repeat % 3]!;
    for (const who of order) {
      await settle();
      if (who === 'curl') {
        const r = await curlRun();
        curlMs.push(r.ms);
        ctx.log(`retrieve: curl          ${rate(r.ms)}`);
      } else if (who === 'client') {
        const r = await childRun('download', join(ctx.tmpDir, 'client-study'));
        if (r.files !== study.instances.length || r.bytes !== study.totalBytes) {
          throw new Error(
            `client wrote ${r.files} files / ${r.bytes} bytes, the study has ${study.instances.length} / ${study.totalBytes}`,
          );
        }
        if (r.reader !== 'socket')
          throw new Error(`the client's download was read by ${r.reader}, not from the socket`);
        clientRuns.push(r);
        ctx.log(
          `retrieve: client        ${rate(r.ms)}, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB, arrayBuffers +${mib(r.peakArrayBuffers - r.baseArrayBuffers).toFixed(1)} MiB, writes ${r.writes?.sync} sync / ${r.writes?.async} async`,
        );
      } else {
        const r = await childRun('plainUndici', join(ctx.tmpDir, 'plain-study.multipart'));
        if (r.bytes < study.totalBytes)
          throw new Error(`plain undici got ${r.bytes} bytes, the study has ${study.totalBytes}`);
        plainRuns.push(r);
        ctx.log(
          `retrieve: plain undici  ${rate(r.ms)}, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB`,
        );
      }
    }
  }
  // Control: the client's download through undici (its reader behind a proxy dispatcher).
  const undiciReaderRuns: DownloadRun[] = [];
  for (let repeat = 0; repeat < DRAIN_REPEATS; repeat++) {
    await settle();
    const r = await childRun('downloadUndici', join(ctx.tmpDir, 'client-undici-study'));
    if (r.reader !== 'undici' || r.files !== study.instances.length || r.bytes !== study.totalBytes)
      throw new Error(`undici reader: ${r.reader}, ${r.files} files / ${r.bytes} bytes`);
    undiciReaderRuns.push(r);
    ctx.log(
      `retrieve: client/undici ${rate(r.ms)}, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB`,
    );
  }
  // Control: the same retrieve with the bodies read and dropped (what the network buffers cost alone).
  const drainRuns: DownloadRun[] = [];
  for (let repeat = 0; repeat < DRAIN_REPEATS; repeat++) {
    await settle();
    const r = await childRun('drain', join(ctx.tmpDir, 'drain-unused'));
    if (r.bytes !== study.totalBytes)
      throw new Error(`drain read ${r.bytes} bytes, the study has ${study.totalBytes}`);
    drainRuns.push(r);
    ctx.log(
      `retrieve: drain only    ${rate(r.ms)}, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB`,
    );
  }
  // Scale check: the same download of a study twice as large. Memory that followed the
  // size of the study would show here; dead buffers waiting for the collector would not.
  const doubleSource = join(ctx.tmpDir, 'large-2x');
  const double = await writeLargeStudy(doubleSource, 2 * LARGE_STUDY_BYTES, LARGE_INSTANCE_BYTES, {
    seed: 'bench-large-2x',
  });
  const doubleClient = new DicomWebClient({
    baseUrl: ctx.orthancDicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: ctx.orthancRestUrl,
  });
  try {
    const summary = await doubleClient.storeInstances(
      double.instances.map((i) => i.path),
      storeSetting,
    );
    if (summary.stored !== double.instances.length)
      throw new Error(`2× study: stored ${summary.stored} of ${double.instances.length}`);
  } finally {
    await doubleClient.close();
  }
  await rm(doubleSource, { recursive: true, force: true });
  const doubleRuns: DownloadRun[] = [];
  for (let repeat = 0; repeat < DRAIN_REPEATS; repeat++) {
    await settle();
    const r = await childRun('download', join(ctx.tmpDir, 'client-study-2x'), {
      studyInstanceUid: double.studyInstanceUid,
    });
    if (r.files !== double.instances.length || r.bytes !== double.totalBytes)
      throw new Error(`2× study: the client wrote ${r.files} files / ${r.bytes} bytes`);
    doubleRuns.push(r);
    ctx.log(
      `retrieve: client, 2× study ${(mb(double.totalBytes) / (r.ms / 1000)).toFixed(0)} MB/s, peak RSS growth ${mib(growth(r)).toFixed(1)} MiB`,
    );
  }
  await ctx.resetOrthanc(); // frees the 1 GiB Orthanc holds

  const clientMs = median(clientRuns.map((r) => r.ms));
  const curlMedian = median(curlMs);
  const plainMs = median(plainRuns.map((r) => r.ms));
  const MBps = (ms: number): number => mb(study.totalBytes) / (ms / 1000);
  const worstGrowth = Math.max(...clientRuns.map(growth));
  const worstPlain = Math.max(...plainRuns.map(growth));
  const kernelPeaks = clientRuns.every((r) => r.peakRssKernel !== undefined);
  const studyText = `study of ${study.instances.length} instances (${study.rows}×${study.columns} 16-bit, ${mb(study.totalBytes).toFixed(0)} MB in all)`;
  const perRun = (runs: DownloadRun[]): string =>
    runs
      .map(
        (r) =>
          `${mib(growth(r)).toFixed(1)} MiB (arrayBuffers +${mib(r.peakArrayBuffers - r.baseArrayBuffers).toFixed(1)}, heapUsed +${mib(r.peakHeapUsed - r.baseHeapUsed).toFixed(1)})`,
      )
      .join('; ');
  return [
    {
      name: 'client.retrieve.seedStore',
      value: storeMs / 1000,
      unit: 's',
      details: `Storing the ${studyText} through the client (batches of ${storeSetting.batchSize}, ${storeSetting.concurrency} in flight): ${MBps(storeMs).toFixed(0)} MB/s. Setup, no target.`,
    },
    {
      name: 'client.retrieve.client',
      value: MBps(clientMs),
      unit: 'MB/s',
      details:
        `DicomWebClient.downloadToDirectory({ studyInstanceUid }, dir) (\`Accept: ${accept}\`): each part streamed to its own file, then renamed by its SOPInstanceUID; ` +
        `the answer is read straight from the socket into one reused buffer (src/dicomweb/transport/socketGet.ts; every run checked DownloadResult.reader === 'socket'); ` +
        `in a fresh Node process per run, timed from the call to its return; median of ${RETRIEVE_REPEATS} (${clientRuns.map((r) => r.ms.toFixed(0)).join(', ')} ms). ${studyText}; MB = 10^6 bytes.`,
    },
    {
      name: 'client.retrieve.curl',
      value: MBps(curlMedian),
      unit: 'MB/s',
      details: `\`curl -H "Accept: ${accept}" -o file URL\` (the whole multipart answer into one file), curl's own time_total; median of ${RETRIEVE_REPEATS} after one warm-up (${curlMs.map((v) => v.toFixed(0)).join(', ')} ms).`,
    },
    {
      name: 'client.retrieve.plainUndici',
      value: MBps(plainMs),
      unit: 'MB/s',
      details: `Reference: undici.request() piped to one file with stream.pipeline (no multipart parsing, no per-instance files), a fresh Node process per run; median of ${RETRIEVE_REPEATS} (${plainRuns.map((r) => r.ms.toFixed(0)).join(', ')} ms). Node's usual way: its writes go asynchronously through the thread pool, which the client avoids while writes are fast (src/dicomweb/transfer/download.ts).`,
    },
    {
      name: 'client.retrieve.vsCurl',
      value: MBps(clientMs) / MBps(curlMedian),
      unit: '×',
      target: '≥ 0.8× curl',
      pass: MBps(clientMs) / MBps(curlMedian) >= 0.8,
      details:
        `client ${MBps(clientMs).toFixed(0)} MB/s ÷ curl ${MBps(curlMedian).toFixed(0)} MB/s (plain undici: ${(MBps(plainMs) / MBps(curlMedian)).toFixed(2)}× curl). ` +
        `Runs rotate client/curl/plain, each after \`sync\`.${quiet.describe()}`,
    },
    {
      name: 'client.retrieve.memoryGrowth',
      value: mib(worstGrowth),
      unit: 'MiB',
      target: `< ${MEMORY_TARGET_MIB} MiB`,
      pass: mib(worstGrowth) < MEMORY_TARGET_MIB,
      details:
        `Worst of ${RETRIEVE_REPEATS} client runs: peak resident set size during the download minus the RSS just before it, in the child process ` +
        `(${kernelPeaks ? 'kernel VmHWM, reset via /proc/self/clear_refs just before the call, and ' : ''}process.memoryUsage() sampled every 10 ms; the larger counts). ` +
        `Per run: ${perRun(clientRuns)}. Baseline RSS ≈ ${mib(clientRuns[0]!.baseRss).toFixed(0)} MiB.`,
    },
    {
      name: 'client.retrieve.undiciReader',
      value: MBps(median(undiciReaderRuns.map((r) => r.ms))),
      unit: 'MB/s',
      details:
        `Control: the same download with \`socketRead: false\`, read through undici and the streaming multipart parser, as through a proxy dispatcher; ` +
        `median of ${DRAIN_REPEATS} (${undiciReaderRuns.map((r) => r.ms.toFixed(0)).join(', ')} ms) = ${(MBps(median(undiciReaderRuns.map((r) => r.ms))) / MBps(curlMedian)).toFixed(2)}× curl; ` +
        `peak RSS growth per run: ${perRun(undiciReaderRuns)}.`,
    },
    {
      name: 'client.retrieve.drainMemoryGrowth',
      value: mib(Math.max(...drainRuns.map(growth))),
      unit: 'MiB',
      details:
        `Control, measured the same way: client.retrieve() (undici and the streaming parser) of the same study with every part body read and dropped (no file is opened, nothing is written), ` +
        `worst of ${DRAIN_REPEATS}. Per run: ${perRun(drainRuns)}; ${drainRuns.map((r) => `${MBps(r.ms).toFixed(0)} MB/s`).join(', ')}. ` +
        `What the stream of 64 KiB network buffers costs before the client does anything with them: V8 frees them only at its next full collection, which it starts when ` +
        `about 64 MiB of such external memory has piled up since the last one. That is why the download reads from the socket into one reused buffer instead.`,
    },
    {
      name: 'client.retrieve.memoryGrowthDoubleStudy',
      value: mib(Math.max(...doubleRuns.map(growth))),
      unit: 'MiB',
      details:
        `Scale check, measured the same way: the client's download of a study twice as large (${double.instances.length} instances, ${mb(double.totalBytes).toFixed(0)} MB), ` +
        `worst of ${DRAIN_REPEATS}. Per run: ${perRun(doubleRuns)}; ${doubleRuns.map((r) => `${(mb(double.totalBytes) / (r.ms / 1000)).toFixed(0)} MB/s`).join(', ')}. ` +
        `Against the 1 GB study's worst ${mib(worstGrowth).toFixed(1)} MiB: memory that followed the size of the study would about double; dead buffers waiting for the collector would not.`,
    },
    {
      name: 'client.retrieve.plainUndiciMemoryGrowth',
      value: mib(worstPlain),
      unit: 'MiB',
      details: `Reference, measured the same way: undici.request() piped to one file. Per run: ${perRun(plainRuns)}. Most of the growth of both is dead network buffers that V8 frees only at its next garbage collection (a full one is forced once about 64 MiB of external memory has accumulated), not data the client keeps.`,
    },
    {
      name: 'client.retrieve.undiciCrashes',
      value: crashes,
      unit: 'runs',
      target: '0',
      pass: crashes === 0,
      details:
        `Child runs killed by undici 7.30.2's uncatchable \`AssertionError: assert(!this.paused)\` (Parser.finish from the socket's 'end' handler; nodejs/undici#5360, fixed in undici 8): ` +
        `Orthanc ends a multipart answer by closing the connection, and when that FIN arrives while the body is paused by backpressure the process dies. ` +
        `Such runs were repeated and are not in the figures above.${crashNotes.length ? ` Crashed: ${crashNotes.join(', ')}.` : ''}`,
    },
  ];
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

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mb(bytes: number): number {
  return bytes / 1e6;
}

function mib(bytes: number): number {
  return bytes / 1024 ** 2;
}
