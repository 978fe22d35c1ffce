/**
 * De-identification of files on disk, for the commands and the benchmark: each source is
 * read whole (within {@link MAX_DEIDENTIFY_FILE_BYTES}), de-identified and written to a new
 * file that must not exist yet. A source is only ever read; a failure is reported for its
 * file and the others go on.
 *
 * Plain module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DicomFileError } from '../part10';
import type { DeidentifyBatch } from './batch';
import { deidentify, planDeidentification, type DeidentifyChange } from './engine';

/**
 * Largest file de-identified: it is held in memory with its copy. Larger files (1 GB
 * multi-frame) are refused with a clear message rather than exhausting the extension host.
 */
export const MAX_DEIDENTIFY_FILE_BYTES = 512 * 1024 * 1024;

/** What happened to one source file. */
export interface FileDeidentification {
  source: string;
  /** The file written; absent when nothing was written. */
  output?: string;
  changes: DeidentifyChange[];
  /** Why the file was not de-identified (one sentence). */
  error?: string;
}

export interface DeidentifyFilesOptions {
  /** Stops between files. */
  signal?: AbortSignal;
  /** Called after each file. */
  onProgress?: (done: number, total: number) => void;
  /** Default {@link MAX_DEIDENTIFY_FILE_BYTES}. */
  maxFileBytes?: number;
  /** Files in flight at once (their reads and writes overlap). Default {@link FILES_IN_FLIGHT}. */
  concurrency?: number;
}

/**
 * Files read or written at once: the work itself is synchronous, so a few in flight keep the
 * disk busy while one is being de-identified; each holds at most one file and its copy.
 */
export const FILES_IN_FLIGHT = 8;

/**
 * De-identifies `sources` into the paths `outputFor` gives, one batch for all (so their
 * UIDs stay consistent). An output that exists already is never overwritten: that file
 * fails with a message instead. Folders of outputs are created as needed.
 */
export async function deidentifyFiles(
  sources: readonly string[],
  batch: DeidentifyBatch,
  outputFor: (source: string) => string,
  options: DeidentifyFilesOptions = {},
): Promise<FileDeidentification[]> {
  const results: FileDeidentification[] = new Array(sources.length);
  const folders = new Set<string>();
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length && !options.signal?.aborted) {
      const index = next++;
      const source = sources[index]!;
      results[index] = await deidentifyOne(source, batch, outputFor(source), folders, options);
      options.onProgress?.(++done, sources.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? FILES_IN_FLIGHT, sources.length));
  await Promise.all(Array.from({ length: workers }, worker));
  // Stopped early: the files never started are left out, in order.
  return results.filter((result) => result !== undefined);
}

/** Every change {@link deidentifyFiles} would make, per file, writing nothing. */
export async function planFiles(
  sources: readonly string[],
  batch: DeidentifyBatch,
  options: DeidentifyFilesOptions = {},
): Promise<FileDeidentification[]> {
  const results: FileDeidentification[] = [];
  for (const source of sources) {
    if (options.signal?.aborted) break;
    try {
      const bytes = await readSource(source, options.maxFileBytes);
      results.push({ source, changes: planDeidentification(bytes, batch) });
    } catch (error) {
      results.push({ source, changes: [], error: messageOf(error, source) });
    }
    options.onProgress?.(results.length, sources.length);
  }
  return results;
}

async function deidentifyOne(
  source: string,
  batch: DeidentifyBatch,
  output: string,
  folders: Set<string>,
  options: DeidentifyFilesOptions,
): Promise<FileDeidentification> {
  try {
    const bytes = await readSource(source, options.maxFileBytes);
    const result = deidentify(bytes, batch);
    const folder = dirname(output);
    if (!folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      folders.add(folder);
    }
    // "wx": fails when the file exists, so neither the source nor any other file is replaced.
    await writeFile(output, result.bytes, { flag: 'wx' });
    return { source, output, changes: result.changes };
  } catch (error) {
    return { source, changes: [], error: messageOf(error, source, output) };
  }
}

async function readSource(
  path: string,
  maxFileBytes = MAX_DEIDENTIFY_FILE_BYTES,
): Promise<Uint8Array> {
  const size = (await stat(path)).size;
  if (size > maxFileBytes) {
    throw new DicomFileError(
      'HEADER_TOO_LARGE',
      `${path} is ${size} bytes; de-identification reads files of at most ${maxFileBytes} bytes.`,
      path,
    );
  }
  return readFile(path);
}

function messageOf(error: unknown, source: string, output?: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EEXIST' && output) return `${output} exists already; it was not overwritten.`;
  if (error instanceof DicomFileError) return error.message;
  return `${source}: ${error instanceof Error ? error.message : String(error)}`;
}
