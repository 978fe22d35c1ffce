/**
 * De-identification (issue 13), run by `npm run bench` (bench/runner.ts)
 * (`npm run bench -- --only deidentify`):
 *
 *   files   1,000 small instances (64×64 RGB Secondary Capture, about 13 KB each,
 *           test/support/bulkData.ts; 4 studies × 2 series) de-identified from disk to disk
 *           in one batch with src/dicom/deidentify/files.ts, as "Save De-identified Copy…"
 *           does: read, walk every data set, write the copy in the source's transfer syntax.
 *           Basic Profile with the Modified Dates option (the picker's default). Five runs,
 *           each into an empty folder; median. Target: ≥ 500 files/s (issue 13).
 */
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DeidentifyBatch } from '../src/dicom/deidentify/batch';
import { deidentifyFiles } from '../src/dicom/deidentify/files';
import { writeSmallInstances } from '../test/support/bulkData';
import { median } from './stats';
import type { BenchContext, BenchResult } from './types';

const FILES = 1000;
const RUNS = 5;
const TARGET_FILES_PER_SECOND = 500;

export async function run(ctx: Pick<BenchContext, 'tmpDir' | 'log'>): Promise<BenchResult[]> {
  const sourceDir = join(ctx.tmpDir, 'deid-sources');
  const instances = await writeSmallInstances(sourceDir, FILES, {
    studies: 4,
    seriesPerStudy: 2,
    seed: 'deid-bench',
  });
  const sources = instances.map((instance) => instance.path);
  const rates: number[] = [];
  const loads: number[] = [];
  let changes = 0;
  for (let runIndex = 0; runIndex < RUNS + 1; runIndex++) {
    const outDir = join(ctx.tmpDir, `deid-out-${runIndex}`);
    await mkdir(outDir, { recursive: true });
    loads.push(loadavg()[0]!);
    const batch = new DeidentifyBatch(['retainLongitudinalModifiedDates']);
    const start = process.hrtime.bigint();
    const results = await deidentifyFiles(sources, batch, (source) =>
      join(outDir, source.slice(sourceDir.length + 1)),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const failed = results.filter((r) => r.error);
    if (failed.length)
      throw new Error(`deidentify: ${failed.length} files failed: ${failed[0]!.error}`);
    changes = results.reduce((sum, r) => sum + r.changes.length, 0) / results.length;
    // The first run warms up the JIT and the page cache; it is not counted.
    if (runIndex > 0) rates.push(FILES / seconds);
    ctx.log(
      `run ${runIndex}: ${(FILES / seconds).toFixed(0)} files/s${runIndex === 0 ? ' (warm-up)' : ''}`,
    );
    await rm(outDir, { recursive: true, force: true });
  }
  const rate = median(rates);
  return [
    {
      name: 'deidentify.files',
      value: Math.round(rate),
      unit: 'files/s',
      target: `≥ ${TARGET_FILES_PER_SECOND} files/s`,
      pass: rate >= TARGET_FILES_PER_SECOND,
      details: `${FILES} Secondary Capture files of about 13 KB (4 studies × 2 series) de-identified from disk to disk in one batch (Basic Profile + Modified Dates, ${changes.toFixed(0)} attributes changed per file), median of ${RUNS} runs after one warm-up (per run: ${rates.map((r) => r.toFixed(0)).join(', ')} files/s). 1-minute load average before the runs (2 cores, shared with other work): ${loads.map((l) => l.toFixed(1)).join(', ')}.`,
    },
  ];
}
