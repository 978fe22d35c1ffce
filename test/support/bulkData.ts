/**
 * Generators of many or large DICOM instances for benchmarks and load tests.
 *
 * Everything is deterministic for a given seed (same UIDs, same bytes), so a benchmark
 * can be repeated against the same server state, and written with bounded memory: the
 * large study streams its Pixel Data from one reusable chunk.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageInstanceElements, pixelDataElementHeader, writePart10 } from './dicomWriter';

const TEN_TO_37 = 10n ** 37n;
const NINE_TIMES_TEN_TO_37 = 9n * TEN_TO_37;

/**
 * A deterministic UID source: each call returns the next UID of the sequence for `seed`.
 *
 * UIDs are `2.25.` followed by exactly 38 decimal digits (43 characters, below the
 * 64-character limit of PS3.5 §9.1). Root 2.25 is the UUID-derived arc of PS3.5 §B.2,
 * whose integer must be below 2^128; a 38-digit value (< 10^38 < 2^128) always is, and
 * the fixed length keeps every file of a generated set the same size.
 */
export function createUidGenerator(seed = 'dicomweb-explorer'): () => string {
  let counter = 0;
  return () => uidFromString(`${seed}#${counter++}`);
}

/** The fixed-length `2.25.` UID derived from a string (SHA-256 of it). */
export function uidFromString(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  const value = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`);
  // Map into [10^37, 10^38): 38 digits, first digit non-zero (no leading zero, §9.1).
  return `2.25.${(TEN_TO_37 + (value % NINE_TIMES_TEN_TO_37)).toString()}`;
}

/** A random UUID-derived UID (PS3.5 §B.2), for when repeatability is not wanted. */
export function randomUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** Options of {@link writeSmallInstances}. */
export interface SmallInstancesOptions {
  /** Number of studies the instances are spread over. Default 1. */
  studies?: number;
  /** Series per study. Default 1. */
  seriesPerStudy?: number;
  /** Seed of the UIDs. Default "bulk". Same seed, same UIDs. */
  seed?: string;
  /** Files written at once. Default 32. */
  concurrency?: number;
  /** File name prefix. Default "inst". */
  filePrefix?: string;
}

/** One generated instance and where it sits in the hierarchy. */
export interface GeneratedInstance {
  path: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

const SMALL_SIZE = 64;

/**
 * Writes `count` small instances (64×64 RGB Secondary Capture, about 13 KB each, like
 * the seed files) into `dir`, each with its own SOP Instance UID, spread round-robin over
 * `studies` studies of `seriesPerStudy` series. Patient is one per study.
 *
 * @returns the instances in file order
 */
export async function writeSmallInstances(
  dir: string,
  count: number,
  options: SmallInstancesOptions = {},
): Promise<GeneratedInstance[]> {
  const studies = Math.max(1, options.studies ?? 1);
  const seriesPerStudy = Math.max(1, options.seriesPerStudy ?? 1);
  const seed = options.seed ?? 'bulk';
  const concurrency = Math.max(1, options.concurrency ?? 32);
  const prefix = options.filePrefix ?? 'inst';
  await mkdir(dir, { recursive: true });

  const studyUids = Array.from({ length: studies }, (_, s) => uidFromString(`${seed}/study/${s}`));
  const seriesUids = studyUids.map((_, s) =>
    Array.from({ length: seriesPerStudy }, (_, r) =>
      uidFromString(`${seed}/study/${s}/series/${r}`),
    ),
  );
  const digits = String(Math.max(0, count - 1)).length;
  const pixels = smallPattern();

  const instances: GeneratedInstance[] = [];
  for (let i = 0; i < count; i++) {
    const study = i % studies;
    const series = Math.floor(i / studies) % seriesPerStudy;
    instances.push({
      path: join(dir, `${prefix}-${String(i).padStart(digits, '0')}.dcm`),
      studyInstanceUid: studyUids[study]!,
      seriesInstanceUid: seriesUids[study]![series]!,
      sopInstanceUid: uidFromString(`${seed}/instance/${i}`),
    });
  }

  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const instance = instances[i]!;
      const study = i % studies;
      const series = Math.floor(i / studies) % seriesPerStudy;
      // Mark each image with its index so no two instances have the same pixels.
      pixels[0] = i & 0xff;
      pixels[1] = (i >>> 8) & 0xff;
      pixels[2] = (i >>> 16) & 0xff;
      const bytes = writePart10(
        imageInstanceElements({
          studyUid: instance.studyInstanceUid,
          seriesUid: instance.seriesInstanceUid,
          sopInstanceUid: instance.sopInstanceUid,
          patientName: `Bulk^Study${study}`,
          patientId: `BULK-${seed}-${study}`,
          studyDate: '20240101',
          modality: 'OT',
          rows: SMALL_SIZE,
          columns: SMALL_SIZE,
          samplesPerPixel: 3,
          photometric: 'RGB',
          bitsAllocated: 8,
          pixelData: pixels,
          instanceNumber: Math.floor(i / (studies * seriesPerStudy)) + 1,
          seriesNumber: series + 1,
          studyDescription: `Bulk study ${study}`,
          seriesDescription: `Bulk series ${series}`,
          accessionNumber: `BULK${study}`,
        }),
      );
      await writeFile(instance.path, bytes);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return instances;
}

function smallPattern(): Uint8Array {
  const pixels = new Uint8Array(SMALL_SIZE * SMALL_SIZE * 3);
  for (let y = 0; y < SMALL_SIZE; y++) {
    for (let x = 0; x < SMALL_SIZE; x++) {
      const at = (y * SMALL_SIZE + x) * 3;
      pixels[at] = x * 4;
      pixels[at + 1] = y * 4;
      pixels[at + 2] = 128;
    }
  }
  return pixels;
}

/** Options of {@link writeLargeStudy}. */
export interface LargeStudyOptions {
  /** Seed of the UIDs. Default "large". */
  seed?: string;
  /** Bytes of Pixel Data written per write call. Default 1 MiB. */
  chunkBytes?: number;
}

/** What {@link writeLargeStudy} wrote. */
export interface LargeStudy {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  instances: GeneratedInstance[];
  /** Sum of the file sizes, at least the requested total. */
  totalBytes: number;
  /** Geometry of every image: 16-bit MONOCHROME2, 12 bits stored. */
  rows: number;
  columns: number;
}

/**
 * Writes one study of at least `totalBytes` as instances of about `instanceBytes` each
 * (e.g. 1 GiB as ~100 instances of 10 MiB: 2048×2559 16-bit images, the size of a
 * digital radiograph). Pixel Data is streamed from one reusable chunk, so memory stays at
 * about `chunkBytes` whatever the total.
 */
export async function writeLargeStudy(
  dir: string,
  totalBytes: number,
  instanceBytes: number,
  options: LargeStudyOptions = {},
): Promise<LargeStudy> {
  const seed = options.seed ?? 'large';
  const chunkBytes = Math.max(4096, options.chunkBytes ?? 1024 * 1024);
  await mkdir(dir, { recursive: true });

  const studyInstanceUid = uidFromString(`${seed}/study`);
  const seriesInstanceUid = uidFromString(`${seed}/series`);
  const headerOf = (i: number, sopInstanceUid: string, rows: number, columns: number): Uint8Array =>
    writePart10(
      imageInstanceElements({
        studyUid: studyInstanceUid,
        seriesUid: seriesInstanceUid,
        sopInstanceUid,
        patientName: 'Large^Study',
        patientId: `LARGE-${seed}`,
        studyDate: '20240101',
        modality: 'OT',
        rows,
        columns,
        samplesPerPixel: 1,
        photometric: 'MONOCHROME2',
        bitsAllocated: 16,
        bitsStored: 12,
        // No pixelData: the header is written first, Pixel Data is streamed after it.
        instanceNumber: i + 1,
        seriesNumber: 1,
        studyDescription: 'Large study',
        seriesDescription: 'Large images',
        accessionNumber: 'LARGE1',
      }),
    );

  // Size the image so header + Pixel Data element reach instanceBytes. Rows and Columns
  // are US (2 bytes whatever the value), so a trial header has the final length; 16
  // spare bytes cover the Instance Number growing by a few digits.
  const trialHeader = headerOf(0, uidFromString(`${seed}/instance/0`), 1, 1);
  const pixelBudget = Math.max(4, instanceBytes - trialHeader.length - 12 + 16);
  const columns = Math.min(2048, Math.max(2, Math.floor(Math.sqrt(pixelBudget / 2))));
  const rows = Math.min(65535, Math.ceil(pixelBudget / (2 * columns)));
  const pixelBytes = rows * columns * 2;
  const chunk = largePattern(columns, Math.max(1, Math.floor(chunkBytes / (columns * 2))));

  const instances: GeneratedInstance[] = [];
  let written = 0;
  for (let i = 0; written < totalBytes; i++) {
    const sopInstanceUid = uidFromString(`${seed}/instance/${i}`);
    const path = join(dir, `large-${String(i).padStart(4, '0')}.dcm`);
    const header = headerOf(i, sopInstanceUid, rows, columns);
    const handle = await open(path, 'w');
    try {
      await handle.write(header);
      await handle.write(pixelDataElementHeader(pixelBytes, 'OW'));
      for (let done = 0; done < pixelBytes;) {
        const n = Math.min(chunk.length, pixelBytes - done);
        await handle.write(chunk, 0, n);
        done += n;
      }
    } finally {
      await handle.close();
    }
    written += header.length + 12 + pixelBytes;
    instances.push({ path, studyInstanceUid, seriesInstanceUid, sopInstanceUid });
  }
  return { studyInstanceUid, seriesInstanceUid, instances, totalBytes: written, rows, columns };
}

/** Rows of a 12-bit diagonal gradient, little endian, reused for every chunk. */
function largePattern(columns: number, rowCount: number): Uint8Array {
  const out = new Uint8Array(columns * rowCount * 2);
  const view = new DataView(out.buffer);
  for (let y = 0; y < rowCount; y++) {
    for (let x = 0; x < columns; x++)
      view.setUint16((y * columns + x) * 2, (x + y * 8) & 0x0fff, true);
  }
  return out;
}
