/**
 * Reading stored instances for the local server: the header of a Part 10 file (never its
 * Pixel Data unless asked) and the bytes of frames and bulk data (PS3.18 §10.4.1.1.3-5).
 * The DICOM JSON of QIDO-RS and WADO-RS metadata is src/dicom/dataSetJson.ts.
 *
 * Reading goes through src/dicom/part10.ts (dicom-parser underneath). Plain Node: no `vscode`.
 */
import type * as dicomParser from 'dicom-parser';
import * as parser from 'dicom-parser';
import { open, type FileHandle } from 'node:fs/promises';
import { elementBytes, rawString } from '../dicom/dataSetJson';
import { readDataSet } from '../dicom/part10';
import { TransferSyntax, isEncapsulatedTransferSyntax } from '../dicom/uids';
import { openInside, type StoredFile } from './jail';
import { ParserTag } from '../dicom/tags';

/** Pixel Data (7FE0,0010), in dicom-parser's tag form. */
export const PIXEL_DATA_TAG = ParserTag.PixelData;
/** Prefix read at once; nearly every header fits, small instances fit whole. */
const FIRST_READ = 256 * 1024;

/** A parsed header: the data set (Pixel Data not loaded) and facts about its encoding. */
export interface InstanceHeader {
  dataSet: dicomParser.DataSet;
  transferSyntaxUid: string;
  /** True when every byte of the file was read (small files, deflated data sets). */
  whole: boolean;
  size: number;
}

/**
 * Opens a file to read: a stored file (a {@link StoredFile}) only through the jail of
 * src/server/jail.ts, so a link or a swapped file is never read (issue 10); a plain path
 * only for the server's own files (an upload's temporary file).
 */
export function openForReading(source: string | StoredFile): Promise<FileHandle> {
  return typeof source === 'string' ? open(source, 'r') : openInside(source.root, source.file);
}

/**
 * Reads and parses the header of a stored Part 10 file, up to (not into) Pixel Data.
 * Deflated data sets (PS3.5 §A.5) and files without Pixel Data past the first read are
 * read whole.
 */
export async function readInstanceHeader(source: string | StoredFile): Promise<InstanceHeader> {
  const handle = await openForReading(source);
  try {
    return await readHeaderFrom(handle);
  } finally {
    await handle.close();
  }
}

/** {@link readInstanceHeader} from an open file (left open). */
export async function readHeaderFrom(handle: FileHandle): Promise<InstanceHeader> {
  const size = (await handle.stat()).size;
  let length = Math.min(size, FIRST_READ);
  for (;;) {
    const bytes = Buffer.alloc(length);
    const { bytesRead } = await handle.read(bytes, 0, length, 0);
    const buffer = bytes.subarray(0, bytesRead);
    // A file that shrank while being read ends early: parse what is there, never loop.
    const whole = bytesRead >= size || bytesRead < length;
    try {
      const dataSet = readDataSet(buffer, whole ? {} : { untilTag: PIXEL_DATA_TAG });
      const transferSyntaxUid =
        uidOf(dataSet, ParserTag.TransferSyntaxUID) ?? TransferSyntax.ExplicitVRLittleEndian;
      const reachedPixelData = dataSet.elements[PIXEL_DATA_TAG] !== undefined;
      if (whole || reachedPixelData) {
        if (!whole && transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian) {
          length = size;
          continue;
        }
        return { dataSet, transferSyntaxUid, whole, size };
      }
    } catch (error) {
      if (whole) throw error;
    }
    // The header runs past the prefix: read more (bounded by the file size).
    length = Math.min(size, length * 4);
  }
}

/** The bytes of a stored file, read through the jail's checks (openForReading). */
export async function readInstanceBytes(source: string | StoredFile): Promise<Buffer> {
  const handle = await openForReading(source);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Parses a whole file held in memory (frames of encapsulated or deflated data). */
export async function readWholeInstance(source: string | StoredFile): Promise<dicomParser.DataSet> {
  const handle = await openForReading(source);
  try {
    const bytes = await handle.readFile();
    return readDataSet(bytes);
  } finally {
    await handle.close();
  }
}

/** A UI value without NUL/space padding (PS3.5 §6.2), or undefined. */
export function uidOf(dataSet: dicomParser.DataSet, tag: string): string | undefined {
  const raw = rawString(dataSet, tag, 'UI');
  return raw ? raw : undefined;
}

/** Finds the element at a bulk data path (tags and item indexes), or undefined. */
export function elementAtPath(
  dataSet: dicomParser.DataSet,
  path: string[],
): dicomParser.Element | undefined {
  let current: dicomParser.DataSet | undefined = dataSet;
  for (let i = 0; i < path.length; i += 2) {
    const element: dicomParser.Element | undefined =
      current?.elements[`x${path[i]!.toLowerCase()}`];
    if (!element) return undefined;
    if (i + 1 >= path.length) return element;
    const item: dicomParser.Element | undefined = element.items?.[Number(path[i + 1])];
    current = item?.dataSet;
  }
  return undefined;
}

/** The bytes of a (non-encapsulated) element, or undefined. */
export function valueBytes(
  dataSet: dicomParser.DataSet,
  element: dicomParser.Element,
): Uint8Array | undefined {
  return elementBytes(dataSet, element);
}

/** Image geometry needed to cut native Pixel Data into frames (PS3.5 §8.1.1, PS3.3 C.7.6.3). */
export interface FrameGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  numberOfFrames: number;
  /** Bytes of one native frame (bit-packed for BitsAllocated 1, rounded up). */
  frameBytes: number;
}

/** Frame geometry from a header, or undefined when the instance has no image. */
export function frameGeometry(dataSet: dicomParser.DataSet): FrameGeometry | undefined {
  const rows = Number(rawString(dataSet, ParserTag.Rows, 'US'));
  const columns = Number(rawString(dataSet, ParserTag.Columns, 'US'));
  const bitsAllocated = Number(rawString(dataSet, ParserTag.BitsAllocated, 'US'));
  if (!rows || !columns || !bitsAllocated) return undefined;
  const samplesPerPixel = Number(rawString(dataSet, ParserTag.SamplesPerPixel, 'US') ?? 1) || 1;
  const numberOfFrames = Math.max(
    1,
    Math.floor(Number(rawString(dataSet, ParserTag.NumberOfFrames, 'IS') ?? 1) || 1),
  );
  const frameBytes = Math.ceil((rows * columns * samplesPerPixel * bitsAllocated) / 8);
  return { rows, columns, samplesPerPixel, bitsAllocated, numberOfFrames, frameBytes };
}

/** Media type of a frame in its stored encoding (PS3.18 §8.7.3.5.2, Table 8.7.3-2/3). */
export function frameMediaType(transferSyntaxUid: string): string {
  if (!isEncapsulatedTransferSyntax(transferSyntaxUid)) return 'application/octet-stream';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(50|51|57|70)$/.test(transferSyntaxUid)) return 'image/jpeg';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(80|81)$/.test(transferSyntaxUid)) return 'image/jls';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(90|91|92|93)$/.test(transferSyntaxUid)) return 'image/jp2';
  if (/^1\.2\.840\.10008\.1\.2\.4\.20[1-4]$/.test(transferSyntaxUid)) return 'image/jphc';
  if (transferSyntaxUid === '1.2.840.10008.1.2.5') return 'image/dicom-rle';
  if (/^1\.2\.840\.10008\.1\.2\.4\.10[0-6]/.test(transferSyntaxUid)) return 'video/mpeg';
  return 'application/octet-stream';
}

/** Frames of encapsulated Pixel Data (PS3.5 §A.4) from a whole parsed file, 1-based. */
export function encapsulatedFrame(
  dataSet: dicomParser.DataSet,
  frameNumber: number,
  numberOfFrames: number,
): Uint8Array {
  const element = dataSet.elements[PIXEL_DATA_TAG]!;
  const fragments = element.fragments ?? [];
  if (numberOfFrames === 1) {
    return parser.readEncapsulatedPixelDataFromFragments(
      dataSet,
      element,
      0,
      fragments.length,
    ) as Uint8Array;
  }
  if ((element.basicOffsetTable?.length ?? 0) > 0) {
    return parser.readEncapsulatedImageFrame(dataSet, element, frameNumber - 1) as Uint8Array;
  }
  if (fragments.length === numberOfFrames) {
    return parser.readEncapsulatedPixelDataFromFragments(
      dataSet,
      element,
      frameNumber - 1,
      1,
    ) as Uint8Array;
  }
  // No offset table and several fragments per frame: JPEG frames can be found by their markers.
  const table = parser.createJPEGBasicOffsetTable(dataSet, element);
  return parser.readEncapsulatedImageFrame(dataSet, element, frameNumber - 1, table) as Uint8Array;
}

/** Swaps 16- or 32-bit words in place (Explicit VR Big Endian → Little Endian, PS3.5 §A.3). */
export function swapBytes(bytes: Uint8Array, wordBytes: number): Uint8Array {
  const out = Buffer.from(bytes);
  if (wordBytes === 2) out.swap16();
  else if (wordBytes === 4) out.swap32();
  return out;
}
