/**
 * De-identification of one Part 10 file per the Basic Application Level Confidentiality
 * Profile and the options a batch chose (PS3.15 Annex E): bytes in, new bytes out, and the
 * list of every attribute that changes (the preview shows it before anything is written).
 *
 * The file is read with dicom-parser (readDataSet), every data set at every nesting level is
 * walked, and the result is written by the project's Part 10 writer in the source's own
 * transfer syntax. Values that stay are copied as they were, byte for byte (Pixel Data too,
 * native or encapsulated); only the changed ones are encoded anew.
 *
 * Plain module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import * as dicomParser from 'dicom-parser';
import { inflateRawSync } from 'node:zlib';
import { formatTag, lookupTag } from '../dictionary';
import { DicomFileError, isDicomPart10, readDataSet, transferSyntaxOf } from '../part10';
import { parseTag, writePart10, type WriterElement, type WriterItem } from '../part10Writer';
import { Tag, parserKey } from '../tags';
import { TransferSyntax } from '../uids';
import type { DeidentifyBatch } from './batch';
import {
  BASIC_PROFILE_CODE,
  OPTIONS,
  profileRowFor,
  resolveAction,
  type DeidentifyOption,
  type ProfileRow,
  type Resolution,
  type ResolvedAction,
} from './profile';
import { TEXT_VRS, dummyValue, shiftDates, summarize, textOf } from './values';

/** One attribute that de-identification changes, as the preview lists it. */
export interface DeidentifyChange {
  /** Where it is: "(0010,0010)", or inside sequences "(0008,1115)[0].(0020,000E)". */
  path: string;
  /** 8 upper-case hex digits. */
  tag: string;
  /** PS3.6 keyword; "" for private and unknown tags. */
  keyword: string;
  /** X removed, Z emptied, D dummy, U UID replaced, C cleaned, "set" written by this tool. */
  action: Exclude<ResolvedAction, 'K'> | 'set';
  /** Why: the table's action ("X/Z/D", "C by cleanDescriptors") or another rule. */
  rule: string;
  /** The value before, summarised (text, "n bytes", "n items", "(empty)"). */
  before: string;
  /** The value after, summarised the same way; "(removed)" for X. */
  after: string;
}

/** A de-identified file. */
export interface DeidentifyResult {
  /** The new Part 10 file. */
  bytes: Uint8Array;
  changes: DeidentifyChange[];
  /** (0008,0018) of the new file, which its File Meta (0002,0003) follows. */
  sopInstanceUid: string;
}

/** (0002,0013) of the files this writes (SH, at most 16 characters). */
export const DEID_IMPLEMENTATION_VERSION_NAME = 'DWX_DEID_1';

/**
 * De-identifies one Part 10 file. The input is not modified.
 *
 * @throws {DicomFileError} when the bytes are not a readable Part 10 file (NOT_DICOM,
 *   TRUNCATED, BAD_META, PARSE_ERROR) or have no SOP Instance UID (MISSING_UID)
 */
export function deidentify(bytes: Uint8Array, batch: DeidentifyBatch): DeidentifyResult {
  const { elements, changes, transferSyntaxUid, mediaStorageSopClassUid, sopInstanceUid } =
    transform(bytes, batch);
  const out = writePart10(elements, {
    transferSyntaxUid,
    ...(mediaStorageSopClassUid ? { mediaStorageSopClassUid } : {}),
    mediaStorageSopInstanceUid: sopInstanceUid,
    implementationVersionName: DEID_IMPLEMENTATION_VERSION_NAME,
  });
  return { bytes: out, changes, sopInstanceUid };
}

/**
 * Every attribute {@link deidentify} would change in this file with this batch, without
 * writing anything: the same walk, so the preview and the result cannot disagree.
 */
export function planDeidentification(
  bytes: Uint8Array,
  batch: DeidentifyBatch,
): DeidentifyChange[] {
  return transform(bytes, batch).changes;
}

/** State of one file's walk. */
interface Walk {
  batch: DeidentifyBatch;
  changes: DeidentifyChange[];
  /** Whose dates these are, for the per-patient date shift. */
  patientKey: string;
}

/** What the walk needs of one element read by dicom-parser. */
interface Source {
  tag: number;
  vr: string;
  /** The value bytes (undefined-length ones include their delimiter). */
  bytes: Uint8Array;
  items?: dicomParser.Element['items'];
  undefinedLength: boolean;
}

function transform(bytes: Uint8Array, batch: DeidentifyBatch) {
  const { meta, dataSet, transferSyntaxUid } = read(bytes);
  const walk: Walk = {
    batch,
    changes: [],
    patientKey: rawText(dataSet, Tag.PatientID) || rawText(dataSet, Tag.PatientName),
  };
  const elements = transformDataSet(dataSet, walk, '');
  addDeidentificationAttributes(elements, walk);
  const sopInstanceUid = textValue(elements, Tag.SOPInstanceUID);
  if (!sopInstanceUid) {
    throw new DicomFileError('MISSING_UID', 'The file has no SOP Instance UID (0008,0018).');
  }
  recordFileMetaChanges(meta, walk, sopInstanceUid);
  const mediaStorageSopClassUid = rawText(meta, Tag.MediaStorageSOPClassUID);
  return {
    elements,
    changes: walk.changes,
    transferSyntaxUid,
    mediaStorageSopClassUid,
    sopInstanceUid,
  };
}

/**
 * The File Meta Information and the data set. A deflated data set (PS3.5 §A.5) is inflated
 * and parsed here on its own: dicom-parser's own inflation in Node parses the inflated copy
 * from its first byte, preamble and File Meta included, as if they were data elements.
 */
function read(bytes: Uint8Array): {
  meta: dicomParser.DataSet;
  dataSet: dicomParser.DataSet;
  transferSyntaxUid: string;
} {
  const meta = readFileMeta(bytes);
  const transferSyntaxUid = transferSyntaxOf(meta);
  if (!transferSyntaxUid) {
    throw new DicomFileError('BAD_META', 'The file has no Transfer Syntax UID (0002,0010).');
  }
  if (transferSyntaxUid !== TransferSyntax.DeflatedExplicitVRLittleEndian) {
    return { meta, dataSet: readDataSet(bytes), transferSyntaxUid };
  }
  const groupLength = meta.elements[parserKey(Tag.FileMetaInformationGroupLength)];
  if (!groupLength) {
    throw new DicomFileError(
      'BAD_META',
      'The deflated file has no File Meta group length (0002,0000).',
    );
  }
  const dataStart =
    groupLength.dataOffset + 4 + (meta.uint32(parserKey(Tag.FileMetaInformationGroupLength)) ?? 0);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes.subarray(dataStart));
  } catch (cause) {
    throw new DicomFileError(
      'PARSE_ERROR',
      'The deflated data set cannot be inflated (PS3.5 §A.5).',
      undefined,
      {
        cause,
      },
    );
  }
  const parser = dicomParser.littleEndianByteArrayParser;
  const dataSet = new (dicomParser as unknown as DataSetConstructor).DataSet(parser, inflated, {});
  try {
    dicomParser.parseDicomDataSetExplicit(
      dataSet,
      new dicomParser.ByteStream(parser, inflated, 0),
      inflated.length,
    );
  } catch (cause) {
    throw new DicomFileError(
      'PARSE_ERROR',
      `The inflated data set cannot be read: ${String(cause)}`,
      undefined,
      {
        cause,
      },
    );
  }
  return { meta, dataSet, transferSyntaxUid };
}

/** dicom-parser's DataSet class, which its type declarations give only as an interface. */
interface DataSetConstructor {
  DataSet: new (
    parser: dicomParser.ByteArrayParser,
    byteArray: Uint8Array,
    elements: Record<string, dicomParser.Element>,
  ) => dicomParser.DataSet;
}

/** The File Meta Information alone (PS3.10 §7.1), as dicom-parser reads it. */
function readFileMeta(bytes: Uint8Array): dicomParser.DataSet {
  if (!isDicomPart10(bytes)) {
    throw new DicomFileError(
      'NOT_DICOM',
      'The bytes are not a DICOM Part 10 file (no DICM prefix).',
    );
  }
  try {
    return dicomParser.readPart10Header(bytes);
  } catch (cause) {
    throw new DicomFileError('BAD_META', 'The File Meta Information cannot be read.', undefined, {
      cause,
    });
  }
}

/** Every element of one data set, de-identified; File Meta (group 0002) is left to the writer. */
function transformDataSet(
  dataSet: dicomParser.DataSet,
  walk: Walk,
  prefix: string,
): WriterElement[] {
  const out: WriterElement[] = [];
  for (const [key, element] of Object.entries(dataSet.elements)) {
    const tag = parseInt(key.slice(1), 16) >>> 0;
    if (tag >>> 16 === 0x0002) continue;
    const source = describe(dataSet, element, tag);
    const result = transformElement(source, walk, `${prefix}${formatTag(tag)}`);
    if (result) out.push(result);
  }
  return out;
}

function describe(dataSet: dicomParser.DataSet, element: dicomParser.Element, tag: number): Source {
  const vr = element.items ? 'SQ' : (element.vr ?? knownVr(tag));
  return {
    tag,
    vr,
    bytes: dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length),
    items: element.items,
    undefinedLength: element.hadUndefinedLength === true,
  };
}

/**
 * The VR an implicit VR data set does not carry (PS3.5 §7.1.3), or an explicit one gave as UN:
 * the profile table's (it knows attributes newer than the dictionary), else the dictionary's.
 */
function knownVr(tag: number): string {
  const vr = profileRowFor(tag)?.vr || lookupTag(tag)?.vr || '';
  // "OB or OW", "US or SS": either encodes the copied bytes the same in implicit VR.
  return /^[A-Z]{2}/.test(vr) ? vr.slice(0, 2) : 'UN';
}

function transformElement(source: Source, walk: Walk, path: string): WriterElement | undefined {
  const group = source.tag >>> 16;
  if (group % 2 === 1) {
    // PS3.15 §E.3.10: without the list of safe private attributes, every one goes.
    record(walk, source, path, 'X', 'private attribute', '(removed)');
    return undefined;
  }
  if ((source.tag & 0xffff) === 0) {
    // Group lengths are retired (PS3.5 §7.2) and would no longer be true.
    record(walk, source, path, 'X', 'group length', '(removed)');
    return undefined;
  }
  const row = profileRowFor(source.tag);
  const resolution = row ? resolveAction(row, walk.batch.options) : undefined;
  if (source.vr === 'UN' && resolution?.action !== 'K') {
    const known = knownVr(source.tag);
    // A sequence stored as UN (PS3.5 §6.2.2) is opaque bytes here: what it holds cannot be
    // walked, so it cannot be kept with its content unchecked.
    if (known === 'SQ') {
      record(walk, source, path, 'X', 'sequence stored as UN', '(removed)');
      return undefined;
    }
    // Other values stored as UN are the value's own bytes: rewritten with their real VR.
    if (known !== 'UN' && row) source = { ...source, vr: known };
  }
  if (!row || !resolution) return keep(source, walk, path);
  return apply(source, walk, path, row, resolution);
}

function apply(
  source: Source,
  walk: Walk,
  path: string,
  row: ProfileRow,
  resolution: Resolution,
): WriterElement | undefined {
  const rule = resolution.option ? `${resolution.action} by ${resolution.option}` : row.basic;
  switch (resolution.action) {
    case 'K':
      return keep(source, walk, path);
    case 'X':
      record(walk, source, path, 'X', rule, '(removed)');
      return undefined;
    case 'Z':
      return empty(source, walk, path, 'Z', rule);
    case 'D':
      // A sequence has no dummy value; emptying it removes all it held (PS3.15 §E.1.1).
      if (source.vr === 'SQ') return empty(source, walk, path, 'D', rule);
      return source.vr === 'UI'
        ? replaceUids(source, walk, path, 'D', rule)
        : dummy(source, walk, path, rule);
    case 'U':
      // X/Z/U*: the sequence stays, the UIDs inside are replaced by their own rows.
      if (source.vr === 'SQ') return keep(source, walk, path);
      return source.vr === 'UI'
        ? replaceUids(source, walk, path, 'U', rule)
        : dummy(source, walk, path, rule);
    case 'C':
      return clean(source, walk, path, row, resolution.option, rule);
  }
}

/**
 * "Clean" (PS3.15 §E.1.1 C): dates move by the patient's offset (§E.3.6); a sequence stays
 * and its items are de-identified by the table (§E.3.4); free text, which cannot be cleaned
 * here with confidence, is blanked; anything else gets the Basic Profile action.
 */
function clean(
  source: Source,
  walk: Walk,
  path: string,
  row: ProfileRow,
  option: DeidentifyOption | undefined,
  rule: string,
): WriterElement | undefined {
  if (option === 'retainLongitudinalModifiedDates') {
    if (source.vr !== 'DA' && source.vr !== 'DT') return keep(source, walk, path);
    const before = textOf(source.bytes);
    const after = shiftDates(before, source.vr, walk.batch.dateShiftDays(walk.patientKey));
    if (after !== before) record(walk, source, path, 'C', rule, after || '(empty)');
    return { tag: source.tag, vr: source.vr, value: after };
  }
  if (source.vr === 'SQ') return keep(source, walk, path);
  if (TEXT_VRS.has(source.vr) && source.vr !== 'UI') return empty(source, walk, path, 'C', rule);
  return apply(source, walk, path, row, resolveAction(row, new Set()));
}

function keep(source: Source, walk: Walk, path: string): WriterElement {
  if (source.vr === 'SQ' && source.items) {
    const items: WriterItem[] = source.items.map((item, i) =>
      item.dataSet ? transformDataSet(item.dataSet, walk, `${path}[${i}].`) : [],
    );
    return { tag: source.tag, vr: 'SQ', value: items };
  }
  return {
    tag: source.tag,
    vr: source.vr,
    value: source.bytes,
    undefinedLength: source.undefinedLength,
  };
}

function empty(
  source: Source,
  walk: Walk,
  path: string,
  action: 'Z' | 'D' | 'C',
  rule: string,
): WriterElement {
  const isSequence = source.vr === 'SQ';
  const wasEmpty = isSequence ? (source.items?.length ?? 0) === 0 : source.bytes.length === 0;
  if (!wasEmpty) record(walk, source, path, action, rule, isSequence ? '0 items' : '(empty)');
  return { tag: source.tag, vr: source.vr, value: isSequence ? [] : new Uint8Array(0) };
}

function dummy(source: Source, walk: Walk, path: string, rule: string): WriterElement {
  const value = dummyValue(source.vr);
  record(
    walk,
    source,
    path,
    'D',
    rule,
    typeof value === 'string' ? value : `${value.length} bytes`,
  );
  return { tag: source.tag, vr: source.vr, value };
}

/** Each UID of the value replaced by the batch's own (PS3.15 §E.3.9 keeps them consistent). */
function replaceUids(
  source: Source,
  walk: Walk,
  path: string,
  action: 'U' | 'D',
  rule: string,
): WriterElement {
  const before = textOf(source.bytes);
  if (before === '') return keep(source, walk, path);
  const after = before
    .split('\\')
    .map((uid) => (uid.trim() === '' ? '' : walk.batch.replaceUid(uid.trim().replace(/\0+$/, ''))))
    .join('\\');
  record(walk, source, path, action, rule, after);
  return { tag: source.tag, vr: 'UI', value: after };
}

function record(
  walk: Walk,
  source: Source,
  path: string,
  action: DeidentifyChange['action'],
  rule: string,
  after: string,
): void {
  const tag = formatTag(source.tag).replace(/[(),]/g, '');
  walk.changes.push({
    path,
    tag,
    keyword: keywordOf(source.tag),
    action,
    rule,
    before: summarize(
      source.vr,
      source.bytes,
      source.vr === 'SQ' ? (source.items?.length ?? 0) : undefined,
    ),
    after,
  });
}

const keywords = new Map<number, string>();

/**
 * PS3.6 keyword of a tag, "" for private and unknown ones; looked up once per standard tag
 * (at most the dictionary's few thousand; private tags, unbounded in number, are not kept).
 */
function keywordOf(tag: number): string {
  if ((tag >>> 16) % 2 === 1) return '';
  let keyword = keywords.get(tag);
  if (keyword === undefined) {
    keyword = lookupTag(tag)?.keyword ?? '';
    keywords.set(tag, keyword);
  }
  return keyword;
}

/**
 * Patient Identity Removed, De-identification Method and its Code Sequence (PS3.15 §E.1.1
 * and §E.1.2, PS3.3 §C.7.1.1), and Longitudinal Temporal Information Modified (PS3.15
 * §E.3.6, PS3.3 §C.12.1), replacing any value the file had.
 */
function addDeidentificationAttributes(elements: WriterElement[], walk: Walk): void {
  const used = OPTIONS.filter((info) => walk.batch.options.has(info.option));
  const codes = [BASIC_PROFILE_CODE, ...used];
  const options = walk.batch.options;
  const dates = options.has('retainLongitudinalModifiedDates')
    ? 'MODIFIED'
    : options.has('retainLongitudinalFullDates')
      ? 'UNMODIFIED'
      : 'REMOVED';
  const added: WriterElement[] = [
    { tag: Tag.PatientIdentityRemoved, vr: 'CS', value: 'YES' },
    { tag: Tag.DeidentificationMethod, vr: 'LO', value: codes.map((c) => c.meaning) },
    {
      tag: Tag.DeidentificationMethodCodeSequence,
      vr: 'SQ',
      value: codes.map((c) => [
        { tag: Tag.CodeValue, vr: 'SH', value: c.code },
        { tag: Tag.CodingSchemeDesignator, vr: 'SH', value: 'DCM' },
        { tag: Tag.CodeMeaning, vr: 'LO', value: c.meaning },
      ]),
    },
    { tag: Tag.LongitudinalTemporalInformationModified, vr: 'CS', value: dates },
  ];
  for (const element of added) {
    const tag = parseTag(element.tag);
    const at = elements.findIndex((e) => parseTag(e.tag) === tag);
    const before = at >= 0 ? elements.splice(at, 1)[0] : undefined;
    const value = element.value;
    const after =
      Array.isArray(value) && element.vr === 'SQ'
        ? `${value.length} items`
        : [value].flat().join('\\');
    walk.changes.push({
      path: formatTag(tag),
      tag: formatTag(tag).replace(/[(),]/g, ''),
      keyword: keywordOf(tag),
      action: 'set',
      rule: 'PS3.15 §E.1.1',
      before: before ? summarizeWriterValue(before) : '(absent)',
      after,
    });
    elements.push(element);
  }
}

function summarizeWriterValue(element: WriterElement): string {
  const value = element.value;
  if (value instanceof Uint8Array) return summarize(element.vr, value);
  if (Array.isArray(value) && element.vr === 'SQ') return `${value.length} items`;
  return [value].flat().join('\\');
}

/**
 * The writer rebuilds the File Meta Information (PS3.10 §7.1): the Media Storage SOP
 * Instance UID follows the new SOP Instance UID, this tool names itself as the
 * implementation, and optional elements such as the source AE titles are not carried over.
 */
function recordFileMetaChanges(
  dataSet: dicomParser.DataSet,
  walk: Walk,
  sopInstanceUid: string,
): void {
  const rebuilt = new Set<string>([
    Tag.FileMetaInformationGroupLength,
    Tag.FileMetaInformationVersion,
    Tag.MediaStorageSOPClassUID,
    Tag.TransferSyntaxUID,
  ]);
  for (const [key, element] of Object.entries(dataSet.elements)) {
    const tag = parseInt(key.slice(1), 16) >>> 0;
    if (tag >>> 16 !== 0x0002) continue;
    const hex = key.slice(1).toUpperCase();
    if (rebuilt.has(hex)) continue;
    const source = describe(dataSet, element, tag);
    const before = textOf(source.bytes);
    const path = formatTag(tag);
    if (hex === Tag.MediaStorageSOPInstanceUID) {
      if (before !== sopInstanceUid)
        record(walk, source, path, 'U', 'follows (0008,0018)', sopInstanceUid);
    } else if (hex === Tag.ImplementationClassUID || hex === Tag.ImplementationVersionName) {
      record(walk, source, path, 'set', 'PS3.10 §7.1: the writer of the file', '(this tool)');
    } else {
      record(walk, source, path, 'X', 'File Meta rewritten', '(removed)');
    }
  }
}

/** A top-level string value as stored, without padding; "" when absent. */
function rawText(dataSet: dicomParser.DataSet, tag: string): string {
  const element = dataSet.elements[parserKey(tag)];
  if (!element) return '';
  return textOf(
    dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length),
  );
}

/** The string value of an element about to be written, whether kept bytes or new text. */
function textValue(elements: WriterElement[], tag: string): string {
  const number = parseTag(tag);
  const element = elements.find((e) => parseTag(e.tag) === number);
  if (!element) return '';
  if (element.value instanceof Uint8Array) return textOf(element.value);
  return typeof element.value === 'string' ? element.value : '';
}
