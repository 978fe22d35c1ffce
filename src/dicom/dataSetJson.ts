/**
 * The DICOM JSON Model (PS3.18 Annex F) of a parsed data set: one converter for the local
 * server's QIDO-RS and WADO-RS metadata answers and for the extension's "Open as DICOM JSON"
 * of a local file. Text is decoded per Specific Character Set (charset.ts); a sequence item
 * with its own (0008,0005) uses it for itself and the items below it, the others inherit
 * (PS3.5 §7.5.3, "Sequence Inheritance"; pydicom reads chrSQEncoding the same way).
 *
 * JSON is always Unicode (PS3.18 §F.2: UTF-8), so (0008,0005) no longer describes the bytes;
 * it is kept as the source had it, as Orthanc and Google Cloud Healthcare do (Orthanc
 * changeset 3420, "fix encoding in DICOMweb", chose Google's convention over DCMTK's rewrite
 * to "ISO_IR 192"). DICOM CP-2518 clarifies what (0008,0005) means in JSON; DCMTK added an
 * option to keep the original value because of it (support.dcmtk.org issue #1181). Keeping it
 * also lets "Compare with Server" show a local file and Orthanc's metadata as equal.
 */
import type * as dicomParser from 'dicom-parser';
import * as parser from 'dicom-parser';
import { textDecoder, type CharsetWarning } from './charset';
import { lookupTag } from './dictionary';
import { ParserTag } from './tags';
import type { DicomJsonAttribute, DicomJsonDataset } from './types';

const UNDEFINED_LENGTH = 0xffffffff;
/** VRs whose values are bulk data: sent as BulkDataURI in metadata (PS3.18 §F.2.6). */
const BULK_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMBER_STRING_VRS = new Set(['IS', 'DS']);
/** Text VRs with a single value that may contain a backslash (PS3.5 §6.2). */
const SINGLE_TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UR']);

/**
 * Bytes of (0008,0005) read at most: 64 values of 16 characters (CS, PS3.5 §6.2) and their
 * backslashes; a longer value is cut there (its last term then reads as unknown) rather than
 * turned into one huge string.
 */
export const SPECIFIC_CHARACTER_SET_MAX_BYTES = 1088;

/**
 * The Specific Character Set (0008,0005) of this data set as stored (CS: default repertoire,
 * values joined by `\`), or undefined when absent or empty.
 */
export function specificCharacterSetOf(dataSet: dicomParser.DataSet): string | undefined {
  const element = dataSet.elements[ParserTag.SpecificCharacterSet];
  if (!element) return undefined;
  const bytes = elementBytes(dataSet, element);
  if (!bytes || bytes.length === 0) return undefined;
  return String.fromCharCode(...bytes.subarray(0, SPECIFIC_CHARACTER_SET_MAX_BYTES));
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

export function elementBytes(
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
  inherited?: string,
): string | undefined {
  const element = dataSet.elements[tag];
  if (!element) return undefined;
  const vr = element.vr ?? vrHint ?? vrOf(element);
  const numbers = binaryNumbers(dataSet, element, vr);
  if (numbers) return numbers.length ? numbers.join('\\') : undefined;
  const bytes = elementBytes(dataSet, element);
  if (!bytes || bytes.length === 0) return undefined;
  const text = textDecoder(specificCharacterSetOf(dataSet) ?? inherited)(bytes, vr);
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
export type JsonAttribute = DicomJsonAttribute;
export type JsonDataset = DicomJsonDataset;

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
  /**
   * Binary values of at most this many bytes are sent as InlineBinary (PS3.18 §F.2.7) rather
   * than as a BulkDataURI; 0 (the default) sends every one as a BulkDataURI.
   */
  inlineBinaryMaxBytes?: number;
  /** Told what the character set decoding found odd, with the path of the item it was in. */
  onCharsetWarning?: (warning: CharsetWarning, itemPath: string[]) => void;
  /** The Specific Character Set in effect around this data set (a sequence item's parent). */
  inheritedCharacterSet?: string;
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
  const characterSet = specificCharacterSetOf(dataSet) ?? options.inheritedCharacterSet;
  const warn = options.onCharsetWarning;
  const decode = textDecoder(characterSet, warn && ((w) => warn(w, path)));
  for (const key of Object.keys(dataSet.elements).sort()) {
    const element = dataSet.elements[key]!;
    const tag = key.slice(1).toUpperCase();
    if (tag.startsWith('0002') || tag.endsWith('0000') || tag.startsWith('FFFE')) continue;
    if (path.length === 0 && options.onlyTags && !options.onlyTags.has(tag)) continue;
    const vr = vrOf(element);
    if (vr === 'SQ') {
      const items = (element.items ?? []).map((item, index) =>
        item.dataSet
          ? dataSetToJson(
              item.dataSet,
              { ...options, onlyTags: undefined, inheritedCharacterSet: characterSet },
              [...path, tag, String(index)],
            )
          : {},
      );
      out[tag] = items.length ? { vr, Value: items } : { vr };
      continue;
    }
    out[tag] = attributeToJson(dataSet, element, vr, (bytes) => decode(bytes, vr), {
      ...options,
      path: [...path, tag],
    });
  }
  return out;
}

function attributeToJson(
  dataSet: dicomParser.DataSet,
  element: dicomParser.Element,
  vr: string,
  decode: (bytes: Uint8Array) => string,
  options: ToJsonOptions & { path: string[] },
): JsonAttribute {
  if (BULK_VRS.has(vr) || element.length === UNDEFINED_LENGTH) {
    const bytes =
      element.length <= (options.inlineBinaryMaxBytes ?? 0)
        ? elementBytes(dataSet, element)
        : undefined;
    if (bytes) return bytes.length ? { vr, InlineBinary: toBase64(bytes) } : { vr };
    return { vr, BulkDataURI: options.bulkDataUri(options.path) };
  }
  if (vr === 'AT') {
    const values = attributeTags(dataSet, element);
    return values.length ? { vr, Value: values } : { vr };
  }
  const numbers = binaryNumbers(dataSet, element, vr);
  if (numbers) return numbers.length ? { vr, Value: numbers } : { vr };
  const bytes = elementBytes(dataSet, element);
  const raw = bytes && bytes.length ? decode(bytes) : undefined;
  const value = jsonValue(vr, vr === 'UI' ? raw?.replace(/[\0 ]+$/, '') : raw);
  return value ? { vr, Value: value } : { vr };
}

/** AT values as 8 hex digits each (PS3.18 §F.2.3: "ggggeeee"). */
function attributeTags(dataSet: dicomParser.DataSet, element: dicomParser.Element): string[] {
  const bytes = elementBytes(dataSet, element);
  const values: string[] = [];
  if (!bytes) return values;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = dataSet.byteArrayParser !== parser.bigEndianByteArrayParser;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    values.push(hex(view.getUint16(at, little)) + hex(view.getUint16(at + 2, little)));
  }
  return values;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let at = 0; at < bytes.length; at += 4096) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 4096));
  }
  return btoa(binary);
}
