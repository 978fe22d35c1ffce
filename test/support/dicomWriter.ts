/**
 * A small DICOM Part 10 writer for test data.
 *
 * Tests need real files with exact UIDs and known pixels (the seed shapes, benchmark
 * instances) on any machine, without dcmtk. The writer covers what those files need:
 * the File Meta Information of PS3.10 §7.1, data sets in Explicit VR Little Endian (the
 * default), Implicit VR Little Endian or Explicit VR Big Endian, all VRs of PS3.5 §6.2,
 * Deflated Explicit VR Little Endian, and sequences of defined length. It does not
 * compress images: for an encapsulated transfer syntax the caller brings the compressed
 * frames and {@link encapsulatedPixelData} wraps them.
 */
import { deflateRawSync } from 'node:zlib';

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
 * Implementation Class UID of this test writer (PS3.7 §D.3.3.2): a UUID-derived UID
 * (PS3.5 §B.2, root 2.25), fixed so files are reproducible byte for byte.
 */
export const IMPLEMENTATION_CLASS_UID = `2.25.${BigInt('0xccdc9bb05b6e42f79866aa672f9761cf').toString()}`;
/** (0002,0013), SH: at most 16 characters. */
export const IMPLEMENTATION_VERSION_NAME = 'DWX_TESTDATA_1';

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2). */
const LONG_LENGTH_VRS = new Set([
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
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const element = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.tagNumber === element.tagNumber) {
      throw new Error(`Duplicate tag ${formatTag(element.tagNumber)}`);
    }
    chunks.push(encodeElement(element.tagNumber, element.vr, element.value, enc));
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
  return elementHeader(0x7fe00010, vr, byteLength, enc);
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
  view.setUint32(8, 0xffffffff, true);
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

/** The parameters of a simple image instance, see {@link makeImageInstance}. */
export interface ImageInstanceParams {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  /** Default Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7). */
  sopClassUid?: string;
  patientName: string;
  patientId: string;
  /** YYYYMMDD */
  studyDate: string;
  /** HHMMSS; default "120000". */
  studyTime?: string;
  modality: string;
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  photometric: string;
  bitsAllocated: 8 | 16 | 32;
  /** Default bitsAllocated. */
  bitsStored?: number;
  /** 0 unsigned (default), 1 two's complement. */
  pixelRepresentation?: 0 | 1;
  /** Only when samplesPerPixel is 3; default 0 (color-by-pixel, R1G1B1R2G2B2...). */
  planarConfiguration?: 0 | 1;
  /**
   * Native pixel data of all frames. A Uint16Array is encoded in the data set's byte
   * order. Omit it to get every element but Pixel Data, e.g. to stream Pixel Data after
   * the header (see {@link pixelDataElementHeader}).
   */
  pixelData?: Uint8Array | Uint16Array;
  numberOfFrames?: number;
  instanceNumber: number;
  seriesNumber: number;
  studyDescription: string;
  seriesDescription: string;
  accessionNumber: string;
  studyId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  /** Extra elements, added to (or replacing) the generated ones. */
  extraElements?: WriterElement[];
  /** Default Explicit VR Little Endian. */
  transferSyntaxUid?: string;
}

/**
 * The elements of a minimal but complete single- or multi-frame image instance:
 * Patient, General Study, General Series, SC Equipment, General Image, Image Pixel and
 * SOP Common modules (PS3.3 §A.8 for Secondary Capture).
 */
export function imageInstanceElements(params: ImageInstanceParams): WriterElement[] {
  const frames = params.numberOfFrames ?? 1;
  const expectedBytes =
    params.rows * params.columns * params.samplesPerPixel * (params.bitsAllocated / 8) * frames;
  const actualBytes = params.pixelData?.byteLength ?? expectedBytes;
  if (actualBytes !== expectedBytes) {
    throw new Error(`pixelData has ${actualBytes} bytes, the image needs ${expectedBytes}`);
  }
  const bitsStored = params.bitsStored ?? params.bitsAllocated;
  const sopClassUid = params.sopClassUid ?? SECONDARY_CAPTURE_IMAGE_STORAGE;
  const elements: WriterElement[] = [
    { tag: 0x00080016, vr: 'UI', value: sopClassUid },
    { tag: 0x00080018, vr: 'UI', value: params.sopInstanceUid },
    { tag: 0x00080020, vr: 'DA', value: params.studyDate },
    { tag: 0x00080030, vr: 'TM', value: params.studyTime ?? '120000' },
    { tag: 0x00080050, vr: 'SH', value: params.accessionNumber },
    { tag: 0x00080060, vr: 'CS', value: params.modality },
    { tag: 0x00080090, vr: 'PN', value: '' },
    { tag: 0x00081030, vr: 'LO', value: params.studyDescription },
    { tag: 0x0008103e, vr: 'LO', value: params.seriesDescription },
    { tag: 0x00100010, vr: 'PN', value: params.patientName },
    { tag: 0x00100020, vr: 'LO', value: params.patientId },
    { tag: 0x00100030, vr: 'DA', value: params.patientBirthDate ?? '' },
    { tag: 0x00100040, vr: 'CS', value: params.patientSex ?? '' },
    { tag: 0x0020000d, vr: 'UI', value: params.studyUid },
    { tag: 0x0020000e, vr: 'UI', value: params.seriesUid },
    { tag: 0x00200010, vr: 'SH', value: params.studyId ?? '1' },
    { tag: 0x00200011, vr: 'IS', value: params.seriesNumber },
    { tag: 0x00200013, vr: 'IS', value: params.instanceNumber },
    { tag: 0x00200020, vr: 'CS', value: '' }, // Patient Orientation, type 2C in General Image
    { tag: 0x00280002, vr: 'US', value: params.samplesPerPixel },
    { tag: 0x00280004, vr: 'CS', value: params.photometric },
    { tag: 0x00280010, vr: 'US', value: params.rows },
    { tag: 0x00280011, vr: 'US', value: params.columns },
    { tag: 0x00280100, vr: 'US', value: params.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: bitsStored },
    { tag: 0x00280102, vr: 'US', value: bitsStored - 1 },
    { tag: 0x00280103, vr: 'US', value: params.pixelRepresentation ?? 0 },
  ];
  if (params.pixelData) {
    elements.push({
      tag: 0x7fe00010,
      vr: params.bitsAllocated <= 8 ? 'OB' : 'OW',
      value: params.pixelData,
    });
  }
  if (sopClassUid === SECONDARY_CAPTURE_IMAGE_STORAGE) {
    // SC Equipment Module, PS3.3 §C.8.6.1: Conversion Type is type 1. WSD = workstation.
    elements.push({ tag: 0x00080064, vr: 'CS', value: 'WSD' });
  }
  if (params.samplesPerPixel > 1) {
    // PS3.3 §C.7.6.3.1.3: Planar Configuration is required when Samples per Pixel > 1.
    elements.push({ tag: 0x00280006, vr: 'US', value: params.planarConfiguration ?? 0 });
  }
  if (params.numberOfFrames !== undefined) {
    elements.push({ tag: 0x00280008, vr: 'IS', value: frames });
  }
  return mergeElements(elements, params.extraElements ?? []);
}

/** A Part 10 file for {@link imageInstanceElements}. */
export function makeImageInstance(params: ImageInstanceParams): Uint8Array {
  const options: WritePart10Options = {};
  if (params.transferSyntaxUid) options.transferSyntaxUid = params.transferSyntaxUid;
  return writePart10(imageInstanceElements(params), options);
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
  const sopClass = options.mediaStorageSopClassUid ?? stringValueOf(dataSet, 0x00080016);
  const sopInstance = options.mediaStorageSopInstanceUid ?? stringValueOf(dataSet, 0x00080018);
  if (!sopClass || !sopInstance) {
    throw new Error(
      'writePart10: SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) are required for the File Meta Information',
    );
  }
  const computed: WriterElement[] = [
    // PS3.10 §7.1: version 00H 01H, as two bytes of OB.
    { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0x00, 0x01]) },
    { tag: 0x00020002, vr: 'UI', value: sopClass },
    { tag: 0x00020003, vr: 'UI', value: sopInstance },
    { tag: 0x00020010, vr: 'UI', value: options.transferSyntaxUid },
    {
      tag: 0x00020012,
      vr: 'UI',
      value: options.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
    },
    {
      tag: 0x00020013,
      vr: 'SH',
      value: options.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
    },
  ];
  const withoutGroupLength = mergeElements(computed, given).filter(
    (e) => parseTag(e.tag) !== 0x00020000,
  );
  const body = encodeDataSet(withoutGroupLength, META_ENCODING);
  // (0002,0000) holds the byte count of every group 0002 element after it (PS3.10 §7.1).
  const groupLength = encodeElement(0x00020000, 'UL', body.length, META_ENCODING);
  return concat([groupLength, body]);
}

function stringValueOf(elements: WriterElement[], tag: number): string | undefined {
  const element = elements.find((e) => parseTag(e.tag) === tag);
  return typeof element?.value === 'string' ? element.value : undefined;
}

function encodingFor(transferSyntaxUid: string, dataSet: WriterElement[]): WriterEncoding {
  const charset = stringValueOf(dataSet, 0x00080005) ?? '';
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
  if (!ALL_VRS.has(vr)) throw new Error(`Unknown VR "${vr}" for ${formatTag(tag)}`);
  const valueBytes =
    vr === 'SQ' ? encodeSequence(tag, value, enc) : encodeValue(tag, vr, value, enc);
  if (valueBytes.length % 2 !== 0) throw new Error(`Internal: odd length for ${formatTag(tag)}`);
  if (enc.explicitVr && !LONG_LENGTH_VRS.has(vr) && valueBytes.length > 0xfffe) {
    throw new Error(
      `${formatTag(tag)} ${vr} value of ${valueBytes.length} bytes exceeds the 16-bit length field`,
    );
  }
  return concat([elementHeader(tag, vr, valueBytes.length, enc), valueBytes]);
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
