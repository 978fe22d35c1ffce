/**
 * Reading stored instances for the local server: the header of a Part 10 file (never its
 * Pixel Data unless asked), the attributes the index keeps, the DICOM JSON of WADO-RS
 * metadata (PS3.18 Annex F) and the bytes of frames and bulk data (PS3.18 §10.4.1.1.3-5).
 *
 * Reading goes through src/dicom/part10.ts (dicom-parser underneath). Plain Node: no `vscode`.
 */
import type * as dicomParser from 'dicom-parser';
import * as parser from 'dicom-parser';
import { open, type FileHandle } from 'node:fs/promises';
import { lookupTag } from '../dicom/dictionary';
import { readDataSet } from '../dicom/part10';
import { TransferSyntax, isEncapsulatedTransferSyntax } from '../dicom/uids';
import { openInside, type StoredFile } from './jail';
import { ParserTag } from '../dicom/tags';

/** Pixel Data (7FE0,0010), in dicom-parser's tag form. */
export const PIXEL_DATA_TAG = ParserTag.PixelData;
const UNDEFINED_LENGTH = 0xffffffff;
/** Prefix read at once; nearly every header fits, small instances fit whole. */
const FIRST_READ = 256 * 1024;

/** VRs whose values are bulk data: sent as BulkDataURI in metadata (PS3.18 §F.2.6). */
const BULK_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMBER_STRING_VRS = new Set(['IS', 'DS']);
/** Text VRs with a single value that may contain a backslash (PS3.5 §6.2). */
const SINGLE_TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UR']);

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

/** The VR of an element: its own (explicit VR) or the dictionary's (implicit VR). */
export function vrOf(element: dicomParser.Element): string {
  if (element.vr) return element.vr;
  if (element.items) return 'SQ';
  const tag = element.tag.slice(1).toUpperCase();
  const known = lookupTag(tag)?.vr ?? 'UN';
  if (known === 'OB or OW') return 'OW';
  if (known === 'US or SS' || known === 'US or OW' || known === 'US or SS or OW') return 'US';
  if (known.length !== 2) return 'UN';
  return known;
}

function decoderFor(dataSet: dicomParser.DataSet): (bytes: Uint8Array) => string {
  // PS3.5 §6.1.2.3: ISO_IR 192 is UTF-8; the default repertoire and Latin-1 read as latin1.
  const charset = dataSet.elements[ParserTag.SpecificCharacterSet];
  let utf8 = false;
  if (charset && charset.length > 0) {
    const bytes = Buffer.from(
      dataSet.byteArray.buffer,
      dataSet.byteArray.byteOffset + charset.dataOffset,
      charset.length,
    );
    utf8 = /ISO_IR 192/.test(bytes.toString('latin1'));
  }
  return utf8
    ? (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
    : (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function elementBytes(
  dataSet: dicomParser.DataSet,
  element: dicomParser.Element,
): Uint8Array | undefined {
  if (element.length === UNDEFINED_LENGTH) return undefined;
  const end = element.dataOffset + element.length;
  if (end > dataSet.byteArray.length) return undefined;
  return dataSet.byteArray.subarray(element.dataOffset, end);
}

/**
 * The value of a string element as stored, padding removed (PS3.5 §6.2), values still
 * joined by `\`. Numbers of binary VRs (US, UL, …) are turned into decimal text so the
 * index keeps one representation. Undefined when absent or empty.
 */
export function rawString(
  dataSet: dicomParser.DataSet,
  tag: string,
  vrHint?: string,
): string | undefined {
  const element = dataSet.elements[tag];
  if (!element) return undefined;
  const vr = element.vr ?? vrHint ?? vrOf(element);
  const numbers = binaryNumbers(dataSet, element, vr);
  if (numbers) return numbers.length ? numbers.join('\\') : undefined;
  const bytes = elementBytes(dataSet, element);
  if (!bytes || bytes.length === 0) return undefined;
  const text = decoderFor(dataSet)(bytes);
  const trimmed = text.replace(/[\0 ]+$/, '');
  return trimmed === '' ? undefined : trimmed;
}

function binaryNumbers(
  dataSet: dicomParser.DataSet,
  element: dicomParser.Element,
  vr: string,
): Array<number | string> | undefined {
  const sizes: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8 };
  const size = sizes[vr];
  if (!size) return undefined;
  const bytes = elementBytes(dataSet, element);
  if (!bytes) return [];
  const little = dataSet.byteArrayParser !== parser.bigEndianByteArrayParser;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<number | string> = [];
  for (let at = 0; at + size <= bytes.length; at += size) {
    switch (vr) {
      case 'US':
        out.push(view.getUint16(at, little));
        break;
      case 'SS':
        out.push(view.getInt16(at, little));
        break;
      case 'UL':
        out.push(view.getUint32(at, little));
        break;
      case 'SL':
        out.push(view.getInt32(at, little));
        break;
      case 'FL':
        out.push(view.getFloat32(at, little));
        break;
      case 'FD':
        out.push(view.getFloat64(at, little));
        break;
      case 'SV':
        out.push(bigToJson(view.getBigInt64(at, little)));
        break;
      case 'UV':
        out.push(bigToJson(view.getBigUint64(at, little)));
        break;
    }
  }
  return out;
}

/** PS3.18 §F.2.3.1: SV/UV beyond 2^53 are sent as strings to keep their precision. */
function bigToJson(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** One DICOM JSON attribute (PS3.18 §F.2.2). */
export interface JsonAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type JsonDataset = Record<string, JsonAttribute>;

/**
 * Turns a text value as stored (values joined by `\`) into a DICOM JSON Value array for its
 * VR (PS3.18 §F.2.3): PN as objects with Alphabetic/Ideographic/Phonetic groups, IS/DS as
 * numbers, empty values as null (§F.2.5). Returns undefined for an empty attribute.
 */
export function jsonValue(vr: string, raw: string | undefined): unknown[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values = SINGLE_TEXT_VRS.has(vr) ? [raw] : raw.split('\\');
  return values.map((value) => {
    const text =
      vr === 'LT' || vr === 'ST' || vr === 'UT'
        ? value.replace(/[ \0]+$/, '')
        : value.trim().replace(/\0+$/, '');
    if (text === '') return null;
    if (vr === 'PN') {
      const [alphabetic, ideographic, phonetic] = text.split('=');
      const name: Record<string, string> = {};
      if (alphabetic) name.Alphabetic = alphabetic;
      if (ideographic) name.Ideographic = ideographic;
      if (phonetic) name.Phonetic = phonetic;
      return name;
    }
    if (NUMBER_STRING_VRS.has(vr) || ['US', 'SS', 'UL', 'SL', 'FL', 'FD'].includes(vr)) {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    if (vr === 'SV' || vr === 'UV') {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    return text;
  });
}

/** Options of {@link dataSetToJson}. */
export interface ToJsonOptions {
  /**
   * BulkDataURI for the element at a path of tags and item indexes (`[Tag.PixelData]`,
   * `[Tag.RadiopharmaceuticalInformationSequence, '0', Tag.RadiopharmaceuticalStartTime]`).
   */
  bulkDataUri: (path: string[]) => string;
  /** Only these top-level tags (8 hex digits, upper case); all when absent. */
  onlyTags?: ReadonlySet<string>;
}

/**
 * The DICOM JSON of a data set (PS3.18 Annex F): keys ascending, File Meta (group 0002) and
 * group lengths left out (PS3.18 §10.4.1.1.2 metadata is the data set, not the file),
 * bulk data VRs as BulkDataURI (§F.2.6), sequences as nested datasets, PN as objects.
 */
export function dataSetToJson(
  dataSet: dicomParser.DataSet,
  options: ToJsonOptions,
  path: string[] = [],
): JsonDataset {
  const out: JsonDataset = {};
  const decode = decoderFor(dataSet);
  const tags = Object.keys(dataSet.elements).sort();
  for (const key of tags) {
    const element = dataSet.elements[key]!;
    const tag = key.slice(1).toUpperCase();
    if (tag.startsWith('0002') || tag.endsWith('0000') || tag.startsWith('FFFE')) continue;
    if (path.length === 0 && options.onlyTags && !options.onlyTags.has(tag)) continue;
    const vr = vrOf(element);
    if (vr === 'SQ') {
      const items = (element.items ?? []).map((item, index) =>
        item.dataSet
          ? dataSetToJson(item.dataSet, { bulkDataUri: options.bulkDataUri }, [
              ...path,
              tag,
              String(index),
            ])
          : {},
      );
      out[tag] = items.length ? { vr, Value: items } : { vr };
      continue;
    }
    if (BULK_VRS.has(vr) || element.length === UNDEFINED_LENGTH) {
      out[tag] = { vr, BulkDataURI: options.bulkDataUri([...path, tag]) };
      continue;
    }
    if (vr === 'AT') {
      const bytes = elementBytes(dataSet, element);
      const values: string[] = [];
      if (bytes) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const little = dataSet.byteArrayParser !== parser.bigEndianByteArrayParser;
        for (let at = 0; at + 4 <= bytes.length; at += 4) {
          const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
          values.push(hex(view.getUint16(at, little)) + hex(view.getUint16(at + 2, little)));
        }
      }
      out[tag] = values.length ? { vr, Value: values } : { vr };
      continue;
    }
    const numbers = binaryNumbers(dataSet, element, vr);
    if (numbers) {
      out[tag] = numbers.length ? { vr, Value: numbers } : { vr };
      continue;
    }
    const bytes = elementBytes(dataSet, element);
    const raw = bytes && bytes.length ? decode(bytes) : undefined;
    const value = jsonValue(vr, vr === 'UI' ? raw?.replace(/[\0 ]+$/, '') : raw);
    out[tag] =
      value && value.some((v) => v !== null)
        ? { vr, Value: value }
        : value
          ? { vr, Value: value }
          : { vr };
  }
  return out;
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
