/**
 * A small DICOM Part 10 writer.
 *
 * Writes the File Meta Information of PS3.10 §7.1 and data sets in Explicit VR Little Endian
 * (the default), Implicit VR Little Endian or Explicit VR Big Endian, all VRs of PS3.5 §6.2,
 * Deflated Explicit VR Little Endian, and sequences of defined length. Values can be given
 * already encoded (bytes copied from another file, in that file's byte order), and an
 * element of undefined length (encapsulated Pixel Data, PS3.5 §A.4) can be carried over
 * whole. It does not compress images: for an encapsulated transfer syntax the caller brings
 * the compressed frames and {@link encapsulatedPixelData} wraps them.
 *
 * Used by de-identification (src/dicom/deidentify/) to write its copies, and by the tests
 * to make real files with exact UIDs and known pixels on any machine, without dcmtk.
 *
 * Plain Node module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import { deflateRawSync } from 'node:zlib';
import { Tag } from './tags';

/** A sequence item: the elements of one nested data set. */
export type WriterItem = WriterElement[];

/** One data element to write. */
export interface WriterElement {
  /** 0xGGGGEEEE, or a string such as "x00100010", "00100010", "(0010,0010)", "0010,0010". */
  tag: number | string;
  /** Two-letter VR (PS3.5 §6.2). */
  vr: string;
  /**
   * Text VRs: a string, or several values (joined with `\`, PS3.5 §6.4).
   * Numeric VRs (US SS UL SL FL FD SV UV AT OW OF OD OL OV): a number or numbers; AT
   * takes tags as 0xGGGGEEEE numbers. Any VR: a Uint8Array of already encoded bytes, or
   * for OW a Uint16Array. SQ: an array of items.
   */
  value: string | string[] | number | number[] | Uint8Array | Uint16Array | WriterItem[];
  /**
   * The value is a Uint8Array holding the encoded content of an element of undefined length,
   * up to and including its Sequence Delimitation Item (PS3.5 §7.1.2, §7.5.2): encapsulated
   * Pixel Data (PS3.5 §A.4) or a UN of undefined length, copied over from another file.
   */
  undefinedLength?: boolean;
}

/** Options of {@link writePart10}. */
export interface WritePart10Options {
  /** Transfer syntax of the data set. Default Explicit VR Little Endian (1.2.840.10008.1.2.1). */
  transferSyntaxUid?: string;
  /** Default: the SOP Class UID (0008,0016) of the data set. */
  mediaStorageSopClassUid?: string;
  /** Default: the SOP Instance UID (0008,0018) of the data set. */
  mediaStorageSopInstanceUid?: string;
  /** Default: {@link IMPLEMENTATION_CLASS_UID}. */
  implementationClassUid?: string;
  /** Default: {@link IMPLEMENTATION_VERSION_NAME}. */
  implementationVersionName?: string;
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const SECONDARY_CAPTURE_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.7';

/**
 * Implementation Class UID of this writer (PS3.7 §D.3.3.2): a UUID-derived UID
 * (PS3.5 §B.2, root 2.25), fixed so files are reproducible byte for byte.
 */
export const IMPLEMENTATION_CLASS_UID = `2.25.${BigInt('0xccdc9bb05b6e42f79866aa672f9761cf').toString()}`;
/** (0002,0013), SH: at most 16 characters. The default, first used for test data. */
export const IMPLEMENTATION_VERSION_NAME = 'DWX_TESTDATA_1';

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2). */
export const LONG_LENGTH_VRS: ReadonlySet<string> = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);
/** Character string VRs padded with a trailing space to even length (PS3.5 §6.2). */
const SPACE_PADDED_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UR',
  'UT',
]);
/** Numeric VRs: bytes per value. */
const NUMERIC_VR_SIZES: Readonly<Record<string, number>> = {
  US: 2,
  SS: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  FD: 8,
  SV: 8,
  UV: 8,
  AT: 4,
  OW: 2,
  OF: 4,
  OD: 8,
  OL: 4,
  OV: 8,
};
const ALL_VRS = new Set([
  ...LONG_LENGTH_VRS,
  ...SPACE_PADDED_VRS,
  ...Object.keys(NUMERIC_VR_SIZES),
  'UI',
  'OB',
]);

export interface WriterEncoding {
  explicitVr: boolean;
  littleEndian: boolean;
  /** latin1 unless the data set declares ISO_IR 192 (UTF-8) in (0008,0005). */
  textEncoding: BufferEncoding;
}

const UNDEFINED_LENGTH = 0xffffffff;
const tagNumber = (tag: string): number => parseInt(tag, 16) >>> 0;
const FILE_META_GROUP_LENGTH = tagNumber(Tag.FileMetaInformationGroupLength);
const FILE_META_VERSION = tagNumber(Tag.FileMetaInformationVersion);
const MEDIA_STORAGE_SOP_CLASS_UID = tagNumber(Tag.MediaStorageSOPClassUID);
const MEDIA_STORAGE_SOP_INSTANCE_UID = tagNumber(Tag.MediaStorageSOPInstanceUID);
const TRANSFER_SYNTAX_UID = tagNumber(Tag.TransferSyntaxUID);
const IMPLEMENTATION_CLASS_UID_TAG = tagNumber(Tag.ImplementationClassUID);
const IMPLEMENTATION_VERSION_NAME_TAG = tagNumber(Tag.ImplementationVersionName);
const SPECIFIC_CHARACTER_SET = tagNumber(Tag.SpecificCharacterSet);
const SOP_CLASS_UID = tagNumber(Tag.SOPClassUID);
const SOP_INSTANCE_UID = tagNumber(Tag.SOPInstanceUID);
const PIXEL_DATA = tagNumber(Tag.PixelData);

const META_ENCODING: WriterEncoding = {
  explicitVr: true,
  littleEndian: true,
  textEncoding: 'latin1',
};

/** Parses the tag forms accepted by {@link WriterElement.tag} into 0xGGGGEEEE. */
export function parseTag(tag: number | string): number {
  if (typeof tag === 'number') {
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff)
      throw new Error(`Invalid tag ${tag}`);
    return tag;
  }
  const hex = tag.replace(/^x/i, '').replace(/[(),\s]/g, '');
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw new Error(`Invalid tag "${tag}"`);
  return parseInt(hex, 16) >>> 0;
}

/**
 * Writes a complete DICOM Part 10 file (PS3.10 §7.1): 128-byte zero preamble, "DICM",
 * File Meta Information group 0002 in Explicit VR Little Endian with its group length,
 * then the data set sorted by tag.
 *
 * Group 0002 elements given in `elements` go into the File Meta Information (they
 * override the computed ones); (0002,0000) is always computed.
 */
export function writePart10(
  elements: WriterElement[],
  options: WritePart10Options = {},
): Uint8Array {
  const { meta, dataSet } = splitMeta(elements);
  const transferSyntaxUid = options.transferSyntaxUid ?? EXPLICIT_VR_LITTLE_ENDIAN;
  const encoding = encodingFor(transferSyntaxUid, dataSet);
  const metaBytes = encodeFileMeta(dataSet, meta, { ...options, transferSyntaxUid });
  let dataSetBytes = encodeDataSet(dataSet, encoding);
  if (transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
    // PS3.5 §A.5: the whole data set after the File Meta is one raw deflate stream.
    dataSetBytes = new Uint8Array(deflateRawSync(dataSetBytes));
  }
  const out = new Uint8Array(132 + metaBytes.length + dataSetBytes.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128); // "DICM"; the preamble stays zero (PS3.10 §7.1)
  out.set(metaBytes, 132);
  out.set(dataSetBytes, 132 + metaBytes.length);
  return out;
}

/**
 * Encodes elements as a data set in the given transfer syntax, sorted by tag, without
 * preamble or File Meta Information. Useful to stream a large file: write the header
 * from {@link writePart10} and then Pixel Data separately.
 */
export function encodeDataSet(
  elements: WriterElement[],
  encoding: WriterEncoding | string = EXPLICIT_VR_LITTLE_ENDIAN,
): Uint8Array {
  const enc = typeof encoding === 'string' ? encodingFor(encoding, elements) : encoding;
  const sorted = elements.map((element) => ({ ...element, tagNumber: parseTag(element.tag) }));
  sorted.sort((a, b) => a.tagNumber - b.tagNumber);
  // Headers and values are collected and copied once, at the end: a data set of kept values
  // (de-identification) then costs one copy of each value, not one per nesting level.
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const element = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.tagNumber === element.tagNumber) {
      throw new Error(`Duplicate tag ${formatTag(element.tagNumber)}`);
    }
    if (element.undefinedLength) {
      pushUndefinedLength(chunks, element.tagNumber, element.vr, element.value, enc);
    } else {
      pushElement(chunks, element.tagNumber, element.vr, element.value, enc);
    }
  }
  return concat(chunks);
}

/**
 * The header of a Pixel Data element (7FE0,0010) of `byteLength` value bytes, for
 * writing the value afterwards from a stream. `byteLength` must be even.
 */
export function pixelDataElementHeader(
  byteLength: number,
  vr: 'OB' | 'OW' = 'OW',
  transferSyntaxUid: string = EXPLICIT_VR_LITTLE_ENDIAN,
): Uint8Array {
  if (byteLength % 2 !== 0) throw new Error('Pixel Data length must be even (PS3.5 §7.1.1)');
  const enc = encodingFor(transferSyntaxUid, []);
  return elementHeader(PIXEL_DATA, vr, byteLength, enc);
}

/**
 * A complete encapsulated Pixel Data element (PS3.5 §A.4): header with undefined length,
 * an empty Basic Offset Table item, one fragment item per frame (padded to even length),
 * and the Sequence Delimitation Item. Append it after a header written without Pixel
 * Data. Little endian only, as every encapsulated transfer syntax is.
 */
export function encapsulatedPixelData(frames: Uint8Array[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0x7fe0, true);
  view.setUint16(2, 0x0010, true);
  header[4] = 0x4f; // O
  header[5] = 0x42; // B
  view.setUint32(8, UNDEFINED_LENGTH, true);
  chunks.push(header, itemHeader(0xe000, 0));
  for (const frame of frames) {
    const fragment = padEven(frame, 0x00);
    chunks.push(itemHeader(0xe000, fragment.length), fragment);
  }
  chunks.push(itemHeader(0xe0dd, 0));
  return concat(chunks);
}

function itemHeader(element: number, length: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, element, true);
  view.setUint32(4, length, true);
  return bytes;
}

/** `base` with the elements of `overrides` replacing those of the same tag. */
export function mergeElements(base: WriterElement[], overrides: WriterElement[]): WriterElement[] {
  const byTag = new Map<number, WriterElement>();
  for (const element of [...base, ...overrides]) byTag.set(parseTag(element.tag), element);
  return [...byTag.values()];
}

function splitMeta(elements: WriterElement[]): { meta: WriterElement[]; dataSet: WriterElement[] } {
  const meta: WriterElement[] = [];
  const dataSet: WriterElement[] = [];
  for (const element of elements) {
    const tag = parseTag(element.tag);
    if (tag >>> 16 === 0x0002) meta.push(element);
    else dataSet.push(element);
  }
  return { meta, dataSet };
}

function encodeFileMeta(
  dataSet: WriterElement[],
  given: WriterElement[],
  options: WritePart10Options & { transferSyntaxUid: string },
): Uint8Array {
  const sopClass = options.mediaStorageSopClassUid ?? stringValueOf(dataSet, SOP_CLASS_UID);
  const sopInstance =
    options.mediaStorageSopInstanceUid ?? stringValueOf(dataSet, SOP_INSTANCE_UID);
  if (!sopClass || !sopInstance) {
    throw new Error(
      'writePart10: SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) are required for the File Meta Information',
    );
  }
  const computed: WriterElement[] = [
    // PS3.10 §7.1: version 00H 01H, as two bytes of OB.
    { tag: FILE_META_VERSION, vr: 'OB', value: new Uint8Array([0x00, 0x01]) },
    { tag: MEDIA_STORAGE_SOP_CLASS_UID, vr: 'UI', value: sopClass },
    { tag: MEDIA_STORAGE_SOP_INSTANCE_UID, vr: 'UI', value: sopInstance },
    { tag: TRANSFER_SYNTAX_UID, vr: 'UI', value: options.transferSyntaxUid },
    {
      tag: IMPLEMENTATION_CLASS_UID_TAG,
      vr: 'UI',
      value: options.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
    },
    {
      tag: IMPLEMENTATION_VERSION_NAME_TAG,
      vr: 'SH',
      value: options.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
    },
  ];
  const withoutGroupLength = mergeElements(computed, given).filter(
    (e) => parseTag(e.tag) !== FILE_META_GROUP_LENGTH,
  );
  const body = encodeDataSet(withoutGroupLength, META_ENCODING);
  // (0002,0000) holds the byte count of every group 0002 element after it (PS3.10 §7.1).
  const groupLength = encodeElement(FILE_META_GROUP_LENGTH, 'UL', body.length, META_ENCODING);
  return concat([groupLength, body]);
}

function stringValueOf(elements: WriterElement[], tag: number): string | undefined {
  const element = elements.find((e) => parseTag(e.tag) === tag);
  return typeof element?.value === 'string' ? element.value : undefined;
}

function encodingFor(transferSyntaxUid: string, dataSet: WriterElement[]): WriterEncoding {
  const charset = stringValueOf(dataSet, SPECIFIC_CHARACTER_SET) ?? '';
  const textEncoding: BufferEncoding = /ISO_IR 192/.test(charset) ? 'utf8' : 'latin1';
  switch (transferSyntaxUid) {
    case IMPLICIT_VR_LITTLE_ENDIAN:
      return { explicitVr: false, littleEndian: true, textEncoding };
    case EXPLICIT_VR_BIG_ENDIAN:
      return { explicitVr: true, littleEndian: false, textEncoding };
    default:
      // Explicit VR Little Endian itself, deflated (deflated afterwards) and every
      // encapsulated syntax, whose data set is Explicit VR Little Endian (PS3.5 §A.4).
      return { explicitVr: true, littleEndian: true, textEncoding };
  }
}

function encodeElement(
  tag: number,
  vr: string,
  value: WriterElement['value'],
  enc: WriterEncoding,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  pushElement(chunks, tag, vr, value, enc);
  return concat(chunks);
}

/** The header and value of one element, appended to `chunks`. */
function pushElement(
  chunks: Uint8Array[],
  tag: number,
  vr: string,
  value: WriterElement['value'],
  enc: WriterEncoding,
): void {
  if (!ALL_VRS.has(vr)) throw new Error(`Unknown VR "${vr}" for ${formatTag(tag)}`);
  const valueBytes =
    vr === 'SQ' ? encodeSequence(tag, value, enc) : encodeValue(tag, vr, value, enc);
  if (valueBytes.length % 2 !== 0) throw new Error(`Internal: odd length for ${formatTag(tag)}`);
  if (enc.explicitVr && !LONG_LENGTH_VRS.has(vr) && valueBytes.length > 0xfffe) {
    throw new Error(
      `${formatTag(tag)} ${vr} value of ${valueBytes.length} bytes exceeds the 16-bit length field`,
    );
  }
  chunks.push(elementHeader(tag, vr, valueBytes.length, enc), valueBytes);
}

/** An element of undefined length whose content (with its delimiter) is already encoded. */
function pushUndefinedLength(
  chunks: Uint8Array[],
  tag: number,
  vr: string,
  value: WriterElement['value'],
  enc: WriterEncoding,
): void {
  if (!(value instanceof Uint8Array) || value.length % 2 !== 0) {
    throw new Error(`${formatTag(tag)}: an undefined-length value must be encoded bytes`);
  }
  // Only the 32-bit length forms can say "undefined" (PS3.5 §7.1.2, §7.1.3).
  if (enc.explicitVr && !LONG_LENGTH_VRS.has(vr)) {
    throw new Error(`${formatTag(tag)} ${vr} cannot have an undefined length`);
  }
  chunks.push(elementHeader(tag, vr, UNDEFINED_LENGTH, enc), value);
}

/**
 * Element header: tag, then in explicit VR the VR and a 16-bit length, or for the long
 * VRs two reserved zero bytes and a 32-bit length (PS3.5 §7.1.2); in implicit VR just a
 * 32-bit length (PS3.5 §7.1.3).
 */
function elementHeader(tag: number, vr: string, length: number, enc: WriterEncoding): Uint8Array {
  const long = !enc.explicitVr || LONG_LENGTH_VRS.has(vr);
  const header = new Uint8Array(enc.explicitVr ? (long ? 12 : 8) : 8);
  const view = new DataView(header.buffer);
  // Group 0002 is always little endian (PS3.10 §7.1), whatever the data set uses.
  const little = enc.littleEndian || tag >>> 16 === 0x0002;
  view.setUint16(0, tag >>> 16, little);
  view.setUint16(2, tag & 0xffff, little);
  if (!enc.explicitVr) {
    view.setUint32(4, length, little);
  } else if (long) {
    header[4] = vr.charCodeAt(0);
    header[5] = vr.charCodeAt(1);
    view.setUint32(8, length, little);
  } else {
    header[4] = vr.charCodeAt(0);
    header[5] = vr.charCodeAt(1);
    view.setUint16(6, length, little);
  }
  return header;
}

function encodeValue(
  tag: number,
  vr: string,
  value: WriterElement['value'],
  enc: WriterEncoding,
): Uint8Array {
  if (value instanceof Uint16Array) {
    if (vr !== 'OW' && vr !== 'US')
      throw new Error(`${formatTag(tag)}: a Uint16Array needs VR OW or US`);
    return uint16Bytes(value, enc.littleEndian);
  }
  if (value instanceof Uint8Array) {
    // Already encoded; pad to even length: space for text, NUL for the others (PS3.5 §6.2).
    return padEven(value, SPACE_PADDED_VRS.has(vr) ? 0x20 : 0x00);
  }
  if (vr === 'SQ') throw new Error('unreachable');
  if (vr in NUMERIC_VR_SIZES) {
    const numbers = Array.isArray(value) ? value : [value];
    return encodeNumbers(tag, vr, numbers as Array<number | string>, enc);
  }
  if (typeof value !== 'string' && !Array.isArray(value) && typeof value !== 'number') {
    throw new Error(`${formatTag(tag)} ${vr}: unsupported value`);
  }
  const text = Array.isArray(value)
    ? (value as Array<string | number>).map(String).join('\\')
    : String(value);
  const bytes = Buffer.from(text, vr === 'UI' ? 'latin1' : enc.textEncoding);
  // UI is padded with NUL, all other strings with a space (PS3.5 §6.2, §9.1).
  return padEven(
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
    vr === 'UI' ? 0x00 : 0x20,
  );
}

function encodeNumbers(
  tag: number,
  vr: string,
  numbers: Array<number | string>,
  enc: WriterEncoding,
): Uint8Array {
  const size = NUMERIC_VR_SIZES[vr]!;
  const out = new Uint8Array(numbers.length * size);
  const view = new DataView(out.buffer);
  const little = enc.littleEndian;
  numbers.forEach((raw, i) => {
    const n = typeof raw === 'string' ? Number(raw) : raw;
    const at = i * size;
    switch (vr) {
      case 'US':
      case 'OW':
        view.setUint16(at, n, little);
        break;
      case 'SS':
        view.setInt16(at, n, little);
        break;
      case 'UL':
      case 'OL':
        view.setUint32(at, n, little);
        break;
      case 'SL':
        view.setInt32(at, n, little);
        break;
      case 'FL':
      case 'OF':
        view.setFloat32(at, n, little);
        break;
      case 'FD':
      case 'OD':
        view.setFloat64(at, n, little);
        break;
      case 'SV':
        view.setBigInt64(at, BigInt(n), little);
        break;
      case 'UV':
      case 'OV':
        view.setBigUint64(at, BigInt(n), little);
        break;
      case 'AT':
        // An attribute tag is two 16-bit numbers, group then element (PS3.5 §6.2).
        view.setUint16(at, n >>> 16, little);
        view.setUint16(at + 2, n & 0xffff, little);
        break;
      default:
        throw new Error(`${formatTag(tag)}: ${vr} is not numeric`);
    }
  });
  return out;
}

/** Sequence of items, each of defined length (PS3.5 §7.5.1). */
function encodeSequence(
  tag: number,
  value: WriterElement['value'],
  enc: WriterEncoding,
): Uint8Array {
  if (!Array.isArray(value) || !value.every((item) => Array.isArray(item))) {
    throw new Error(`${formatTag(tag)} SQ: value must be an array of items (arrays of elements)`);
  }
  const chunks: Uint8Array[] = [];
  for (const item of value as WriterItem[]) {
    const body = encodeDataSet(item, enc);
    const header = new Uint8Array(8);
    const view = new DataView(header.buffer);
    view.setUint16(0, 0xfffe, enc.littleEndian);
    view.setUint16(2, 0xe000, enc.littleEndian);
    view.setUint32(4, body.length, enc.littleEndian);
    chunks.push(header, body);
  }
  return concat(chunks);
}

function uint16Bytes(values: Uint16Array, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, values[i]!, littleEndian);
  return out;
}

function padEven(bytes: Uint8Array, pad: number): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function formatTag(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}
