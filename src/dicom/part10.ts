/**
 * Local DICOM Part 10 file reading, on top of dicom-parser.
 *
 * Used by the upload feature to check files before they are sent (is it DICOM at all,
 * is it complete, does it carry the UIDs a STOW-RS server indexes by) and by the client
 * to know what it sent. Identity reading looks only at a prefix of the file: a
 * multi-gigabyte whole-slide or multi-frame file must not be read to learn five UIDs.
 *
 * Plain Node module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import * as dicomParser from 'dicom-parser';
import { open, type FileHandle } from 'node:fs/promises';
import { TransferSyntax, isValidUid, sopClassName } from './uids';
import { ParserTag } from './tags';

/** Why a file was refused; stable strings meant for `switch` and for tests. */
export type DicomFileErrorCode =
  /** No 128-byte preamble followed by "DICM" (PS3.10 §7.1), or shorter than 132 bytes. */
  | 'NOT_DICOM'
  /** The file ends inside an element, a sequence or the Pixel Data. */
  | 'TRUNCATED'
  /** File Meta Information without a usable (0002,0010) Transfer Syntax UID. */
  | 'BAD_META'
  /** One of the four UIDs STOW-RS needs (SOP Class/Instance, Study, Series) is absent or empty. */
  | 'MISSING_UID'
  /** One of those UIDs holds a NUL before its end: a UID cannot (PS3.5 §9.1). */
  | 'INVALID_UID'
  /** The header before Pixel Data is larger than the reader is allowed to load. */
  | 'HEADER_TOO_LARGE'
  /** dicom-parser refused the bytes for another reason (bad VR, bad item tag, ...). */
  | 'PARSE_ERROR'
  /** The file could not be opened or read. */
  | 'IO_ERROR';

/** A file that cannot be used as a DICOM instance, with the reason as a code. */
export class DicomFileError extends Error {
  override readonly name = 'DicomFileError';
  /**
   * @param code why the file was refused
   * @param message one sentence for people, naming the file
   * @param path the file, when the bytes came from one
   */
  constructor(
    readonly code: DicomFileErrorCode,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What identifies one instance, as read from its Part 10 file. */
export interface InstanceIdentity {
  /** (0008,0016) from the data set. */
  sopClassUid: string;
  /** (0008,0018) from the data set. */
  sopInstanceUid: string;
  /** (0020,000E) */
  seriesInstanceUid: string;
  /** (0020,000D) */
  studyInstanceUid: string;
  /** (0002,0010) from the File Meta Information. */
  transferSyntaxUid: string;
  /** (0010,0020), when present and not empty. */
  patientId?: string;
  /** True when (0010,0020) is in the data set, even with an empty value (Azure v2 accepts that). */
  patientIdPresent?: boolean;
  /** (0010,0010) as stored (PN with `^` separators), when present and not empty. */
  patientName?: string;
  /** File size in bytes (for a byte array: its length). */
  size: number;
  /** How many bytes of the file were read to find all this. */
  bytesRead: number;
  /**
   * Problems that do not stop an upload but that a careful user wants to know: UIDs
   * that break PS3.5 §9.1, File Meta UIDs that disagree with the data set (PS3.10 §7.1).
   */
  warnings: string[];
}

/** Options of {@link readInstanceIdentity}. */
export interface ReadIdentityOptions {
  /** First read size. Default 64 KiB: enough for nearly every header. */
  initialBytes?: number;
  /**
   * Largest prefix read when looking for the end of the header. Default 16 MiB. Past it,
   * the identity is still returned when every UID was found (tags are in ascending order,
   * PS3.5 §7.1, so an element past (0020,000E) proves the UIDs are complete).
   */
  maxHeaderBytes?: number;
}

const PREAMBLE_LENGTH = 128;
const MAGIC_END = PREAMBLE_LENGTH + 4;
const PIXEL_DATA = ParserTag.PixelData;
const SERIES_INSTANCE_UID = ParserTag.SeriesInstanceUID;
const UNDEFINED_LENGTH = 0xffffffff;

/**
 * Whether bytes (or the file at a path) start with the Part 10 preamble and the "DICM"
 * prefix (PS3.10 §7.1). Files without it (bare data sets, DICOMDIR-less media dumps)
 * are not accepted by STOW-RS as `application/dicom`.
 *
 * From a path, reads only the first 132 bytes; rejects (Node's fs error) when the file
 * cannot be opened.
 */
export function isDicomPart10(bytes: Uint8Array): boolean;
export function isDicomPart10(path: string): Promise<boolean>;
export function isDicomPart10(source: Uint8Array | string): boolean | Promise<boolean> {
  if (typeof source !== 'string') return hasDicmPrefix(source);
  return (async () => {
    const handle = await open(source, 'r');
    try {
      const head = Buffer.alloc(MAGIC_END);
      const { bytesRead } = await handle.read(head, 0, MAGIC_END, 0);
      return bytesRead === MAGIC_END && hasDicmPrefix(head);
    } finally {
      await handle.close();
    }
  })();
}

function hasDicmPrefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= MAGIC_END &&
    bytes[128] === 0x44 && // D
    bytes[129] === 0x49 && // I
    bytes[130] === 0x43 && // C
    bytes[131] === 0x4d // M
  );
}

/**
 * Reads the identity of the instance in a Part 10 file from a prefix of it.
 *
 * Starts with {@link ReadIdentityOptions.initialBytes} and grows the prefix until
 * dicom-parser reaches the Pixel Data element header (`untilTag`), the end of the file,
 * or {@link ReadIdentityOptions.maxHeaderBytes}. Pixel Data itself is never loaded: its
 * extent is checked against the file size (native) or by walking the fragment item
 * headers (encapsulated, PS3.5 §A.4), so a truncated file is refused without reading it.
 * Implicit VR and big endian data sets are handled by dicom-parser; deflated ones
 * (PS3.5 §A.5) have to be read whole, since a deflate stream cannot be entered midway.
 *
 * @throws {DicomFileError} NOT_DICOM, TRUNCATED, BAD_META, MISSING_UID, HEADER_TOO_LARGE,
 *   PARSE_ERROR or IO_ERROR.
 */
export async function readInstanceIdentity(
  path: string,
  options: ReadIdentityOptions = {},
): Promise<InstanceIdentity> {
  return (await readIdentityOfFile(path, options, 0)).identity;
}

/**
 * {@link readInstanceIdentity}, and the file's bytes when it is no larger than
 * `keepUpTo`: such a file is read whole at once (its identity needs most of it anyway),
 * so a caller that sends it (STOW-RS, store.ts) does not read it a second time.
 */
export function readInstanceIdentityAndSmallFile(
  path: string,
  keepUpTo: number,
  options: ReadIdentityOptions = {},
): Promise<{ identity: InstanceIdentity; bytes?: Buffer }> {
  return readIdentityOfFile(path, options, keepUpTo);
}

async function readIdentityOfFile(
  path: string,
  options: ReadIdentityOptions,
  keepUpTo: number,
): Promise<{ identity: InstanceIdentity; bytes?: Buffer }> {
  const initialBytes = Math.max(MAGIC_END, options.initialBytes ?? 64 * 1024);
  const maxHeaderBytes = Math.max(initialBytes, options.maxHeaderBytes ?? 16 * 1024 * 1024);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new DicomFileError('IO_ERROR', `Cannot open ${path}: ${messageOf(cause)}`, path, {
      cause,
    });
  }
  try {
    const size = (await handle.stat()).size;
    if (size < MAGIC_END) {
      throw new DicomFileError(
        'NOT_DICOM',
        `${path} is not a DICOM Part 10 file (only ${size} bytes).`,
        path,
      );
    }
    let want = size <= keepUpTo ? size : initialBytes;
    for (;;) {
      const length = Math.min(want, size);
      const bytes = Buffer.alloc(length);
      const { bytesRead } = await handle.read(bytes, 0, length, 0);
      if (bytesRead !== length) {
        throw new DicomFileError('IO_ERROR', `${path} changed while being read.`, path);
      }
      const attempt = parsePrefix(bytes, length === size, path);
      if (attempt.kind === 'need-more') {
        if (length < size && length < maxHeaderBytes) {
          want = attempt.wholeFile ? size : Math.min(want * 4, maxHeaderBytes);
          continue;
        }
        if (!attempt.identityComplete) {
          throw new DicomFileError(
            'HEADER_TOO_LARGE',
            `${path}: no Pixel Data and no complete identity within the first ${length} bytes.`,
            path,
          );
        }
      }
      const { dataSet } = attempt;
      if (attempt.kind === 'done' && attempt.pixelData && !attempt.deflated) {
        await checkPixelDataExtent(handle, attempt.pixelData, dataSet, size, path);
      }
      const identity = identityFromDataSet(dataSet, { size, bytesRead: length, path });
      return length === size && size <= keepUpTo ? { identity, bytes } : { identity };
    }
  } finally {
    await handle.close();
  }
}

/**
 * Identity of an instance held in memory (a whole Part 10 file), e.g. a part received in a
 * STOW-RS request, and the data set it was read from: everything before Pixel Data, File
 * Meta included, as `readDataSet(bytes, { untilTag: ParserTag.PixelData })` gives it, so a caller
 * that needs both parses once (the local server). Same checks and errors as
 * {@link readInstanceIdentity}, except that Pixel Data is checked from the bytes.
 */
export function readInstanceIdentityAndDataSetFromBytes(bytes: Uint8Array): {
  identity: InstanceIdentity;
  dataSet: dicomParser.DataSet;
} {
  const buffer = asBuffer(bytes);
  if (!hasDicmPrefix(buffer)) {
    throw new DicomFileError(
      'NOT_DICOM',
      'The bytes are not a DICOM Part 10 file (no DICM prefix).',
    );
  }
  const attempt = parsePrefix(buffer, true, undefined);
  if (attempt.kind === 'done' && attempt.pixelData && !attempt.deflated) {
    checkPixelDataExtentInMemory(attempt.pixelData, attempt.dataSet, buffer.length, undefined);
  }
  return {
    identity: identityFromDataSet(attempt.dataSet, {
      size: buffer.length,
      bytesRead: buffer.length,
    }),
    dataSet: attempt.dataSet,
  };
}

/**
 * Parses a whole Part 10 file with dicom-parser and returns its DataSet (File Meta and
 * data set merged, as dicom-parser does), for display and preview.
 *
 * @param bytes the file's bytes; a Node Buffer is used without copying
 * @param options.untilTag stop before this tag (e.g. `x7fe00010` to skip Pixel Data)
 * @throws {DicomFileError} NOT_DICOM, TRUNCATED, BAD_META or PARSE_ERROR
 */
export function readDataSet(
  bytes: Uint8Array,
  options: { untilTag?: string } = {},
): dicomParser.DataSet {
  const buffer = asBuffer(bytes);
  if (!hasDicmPrefix(buffer)) {
    throw new DicomFileError(
      'NOT_DICOM',
      'The bytes are not a DICOM Part 10 file (no DICM prefix).',
    );
  }
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(
      buffer,
      options.untilTag ? { untilTag: options.untilTag } : {},
    );
  } catch (error) {
    throw toDicomFileError(unwrapParserError(error), undefined);
  }
  if (transferSyntaxOf(dataSet) === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    dropPreambleElements(dataSet);
  }
  return dataSet;
}

/**
 * In Node, dicom-parser parses an inflated data set (PS3.5 §A.5) from the first byte of a
 * copy holding the preamble and File Meta too, so the preamble comes out as made-up
 * elements ("DICM" as tag 4944,4D43). Every true data set element lies after the File Meta.
 */
function dropPreambleElements(dataSet: dicomParser.DataSet): void {
  const groupLength = dataSet.elements[ParserTag.FileMetaInformationGroupLength];
  if (!groupLength) return;
  const metaEnd =
    groupLength.dataOffset + 4 + (dataSet.uint32(ParserTag.FileMetaInformationGroupLength) ?? 0);
  for (const [key, element] of Object.entries(dataSet.elements)) {
    if (element.dataOffset < metaEnd && !key.startsWith('x0002')) delete dataSet.elements[key];
  }
}

/** Transfer syntax UID of a parsed data set ((0002,0010)), or undefined. */
export function transferSyntaxOf(dataSet: dicomParser.DataSet): string | undefined {
  return readUid(dataSet, ParserTag.TransferSyntaxUID);
}

type ParseAttempt =
  | {
      kind: 'done';
      dataSet: dicomParser.DataSet;
      pixelData: dicomParser.Element | undefined;
      deflated: boolean;
    }
  | {
      kind: 'need-more';
      dataSet: dicomParser.DataSet;
      /** True when only the whole file will do (deflated data set). */
      wholeFile: boolean;
      /** True when the UIDs are all complete in this prefix. */
      identityComplete: boolean;
    };

/**
 * One parse of a prefix. `isWholeFile` decides whether running out of bytes means
 * "read more" or "the file is truncated".
 */
function parsePrefix(bytes: Buffer, isWholeFile: boolean, path: string | undefined): ParseAttempt {
  const header = parseFileMeta(bytes, isWholeFile, path);
  if ('kind' in header) return header;
  const { meta, deflated } = header;
  if (deflated && !isWholeFile) {
    return { kind: 'need-more', dataSet: meta, wholeFile: true, identityComplete: false };
  }
  const { dataSet, failure } = parseDataSet(bytes, meta);
  const pixelData = dataSet.elements[PIXEL_DATA];
  // Implicit VR parsing in dicom-parser does not throw when the last element runs past
  // the buffer; it just stops. Catch that here so truncation is never silent.
  const overrun = failure === undefined && !pixelData && lastElementOverruns(dataSet);

  if (pixelData) return { kind: 'done', dataSet, pixelData, deflated };
  if (failure === undefined && !overrun && isWholeFile) {
    refuseImageWithoutPixelData(dataSet, path);
    return { kind: 'done', dataSet, pixelData: undefined, deflated };
  }
  if (!isWholeFile) {
    return {
      kind: 'need-more',
      dataSet,
      wholeFile: false,
      identityComplete: hasElementAfter(dataSet, SERIES_INSTANCE_UID),
    };
  }
  if (overrun) {
    throw new DicomFileError(
      'TRUNCATED',
      `${path ?? 'The file'} ends inside a data element.`,
      path,
    );
  }
  throw toDicomFileError(failure, path);
}

/**
 * The "DICM" prefix and the File Meta Information, read on their own: the File Meta is
 * always Explicit VR Little Endian and tells how the rest is encoded (PS3.10 §7.1). A
 * prefix that ends inside it asks for more bytes; a whole file that does is TRUNCATED.
 */
function parseFileMeta(
  bytes: Buffer,
  isWholeFile: boolean,
  path: string | undefined,
): ParseAttempt | { meta: dicomParser.DataSet; deflated: boolean } {
  if (!hasDicmPrefix(bytes)) {
    throw new DicomFileError(
      'NOT_DICOM',
      `${path ?? 'The bytes'}: no "DICM" prefix after the 128-byte preamble (PS3.10 §7.1).`,
      path,
    );
  }
  let meta: dicomParser.DataSet;
  try {
    meta = dicomParser.readPart10Header(bytes);
  } catch (error) {
    if (!isWholeFile)
      return {
        kind: 'need-more',
        dataSet: emptyDataSet(bytes),
        wholeFile: false,
        identityComplete: false,
      };
    throw toDicomFileError(unwrapParserError(error), path);
  }
  // (0002,0000) says where the File Meta ends (PS3.10 §7.1); a file ending before that
  // was cut, not badly written.
  const groupLengthElement = meta.elements[ParserTag.FileMetaInformationGroupLength];
  let metaEnd = MAGIC_END;
  if (groupLengthElement) {
    metaEnd = groupLengthElement.dataOffset + 4;
    if (metaEnd <= bytes.length) metaEnd += bytes.readUInt32LE(groupLengthElement.dataOffset);
  }
  if (bytes.length < metaEnd || bytes.length === MAGIC_END) {
    if (!isWholeFile)
      return { kind: 'need-more', dataSet: meta, wholeFile: false, identityComplete: false };
    throw new DicomFileError(
      'TRUNCATED',
      `${path ?? 'The file'} ends inside its File Meta Information.`,
      path,
    );
  }
  const transferSyntax = readUid(meta, ParserTag.TransferSyntaxUID);
  if (!transferSyntax) {
    throw new DicomFileError(
      'BAD_META',
      `${path ?? 'The file'} has no Transfer Syntax UID (0002,0010) in its File Meta Information.`,
      path,
    );
  }
  return { meta, deflated: transferSyntax === TransferSyntax.DeflatedExplicitVRLittleEndian };
}

/** The data set up to Pixel Data, or as much of it as parsed, with the parser's failure. */
function parseDataSet(
  bytes: Buffer,
  meta: dicomParser.DataSet,
): { dataSet: dicomParser.DataSet; failure: unknown } {
  try {
    return { dataSet: dicomParser.parseDicom(bytes, { untilTag: PIXEL_DATA }), failure: undefined };
  } catch (error) {
    const { exception, dataSet: partial } = splitParserError(error);
    const dataSet = partial ?? meta;
    // dicom-parser merges the File Meta only on success; the partial data set needs it too.
    for (const [tag, element] of Object.entries(meta.elements)) dataSet.elements[tag] ??= element;
    return { dataSet, failure: exception };
  }
}

/**
 * An image whose file ends before any Pixel Data was cut at an element boundary: every
 * "... Image Storage" IOD has the Image Pixel module (PS3.3 §C.7.6.3), and Rows
 * (0028,0010) belongs to it.
 */
function refuseImageWithoutPixelData(dataSet: dicomParser.DataSet, path: string | undefined): void {
  const hasAnyPixelData = [ParserTag.FloatPixelData, ParserTag.DoubleFloatPixelData].some(
    (tag) => dataSet.elements[tag],
  );
  const sopClass = readUid(dataSet, ParserTag.SOPClassUID);
  const isImage =
    dataSet.elements[ParserTag.Rows] !== undefined ||
    (sopClass !== undefined && /Image$/.test(sopClassName(sopClass)));
  if (isImage && !hasAnyPixelData) {
    throw new DicomFileError(
      'TRUNCATED',
      `${path ?? 'The file'} describes an image but ends before its Pixel Data.`,
      path,
    );
  }
}

/** Throws TRUNCATED when Pixel Data runs past the end of the file. */
async function checkPixelDataExtent(
  handle: FileHandle,
  pixelData: dicomParser.Element,
  dataSet: dicomParser.DataSet,
  size: number,
  path: string,
): Promise<void> {
  if (pixelData.length !== UNDEFINED_LENGTH) {
    if (pixelData.dataOffset + pixelData.length > size) {
      throw new DicomFileError(
        'TRUNCATED',
        `${path} is truncated: Pixel Data needs ${pixelData.dataOffset + pixelData.length} bytes, the file has ${size}.`,
        path,
      );
    }
    return;
  }
  // Encapsulated Pixel Data (PS3.5 §A.4): a run of Item (FFFE,E000) fragments ended by a
  // Sequence Delimitation Item (FFFE,E0DD). Walk the 8-byte item headers only.
  const header = Buffer.alloc(8);
  let position = pixelData.dataOffset;
  const bigEndian = isBigEndian(dataSet);
  for (;;) {
    if (position + 8 > size) {
      throw new DicomFileError(
        'TRUNCATED',
        `${path} is truncated inside its encapsulated Pixel Data.`,
        path,
      );
    }
    await handle.read(header, 0, 8, position);
    const item = readItemHeader(header, 0, bigEndian);
    if (item.tag === 0xfffee0dd) return;
    if (item.tag !== 0xfffee000) {
      throw new DicomFileError(
        'PARSE_ERROR',
        `${path}: unexpected tag ${hexTag(item.tag)} in encapsulated Pixel Data at byte ${position}.`,
        path,
      );
    }
    position += 8 + item.length;
  }
}

function checkPixelDataExtentInMemory(
  pixelData: dicomParser.Element,
  dataSet: dicomParser.DataSet,
  size: number,
  path: string | undefined,
): void {
  const name = path ?? 'The file';
  if (pixelData.length !== UNDEFINED_LENGTH) {
    if (pixelData.dataOffset + pixelData.length > size) {
      throw new DicomFileError('TRUNCATED', `${name} is truncated inside Pixel Data.`, path);
    }
    return;
  }
  const bytes = dataSet.byteArray;
  const bigEndian = isBigEndian(dataSet);
  let position = pixelData.dataOffset;
  for (;;) {
    if (position + 8 > bytes.length) {
      throw new DicomFileError(
        'TRUNCATED',
        `${name} is truncated inside its encapsulated Pixel Data.`,
        path,
      );
    }
    const item = readItemHeader(bytes, position, bigEndian);
    if (item.tag === 0xfffee0dd) return;
    if (item.tag !== 0xfffee000) {
      throw new DicomFileError(
        'PARSE_ERROR',
        `${name}: unexpected tag ${hexTag(item.tag)} in encapsulated Pixel Data.`,
        path,
      );
    }
    position += 8 + item.length;
  }
}

function readItemHeader(
  bytes: Uint8Array,
  offset: number,
  bigEndian: boolean,
): { tag: number; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const little = !bigEndian;
  const group = view.getUint16(0, little);
  const element = view.getUint16(2, little);
  return { tag: ((group << 16) | element) >>> 0, length: view.getUint32(4, little) };
}

function isBigEndian(dataSet: dicomParser.DataSet): boolean {
  return transferSyntaxOf(dataSet) === TransferSyntax.ExplicitVRBigEndian;
}

function identityFromDataSet(
  dataSet: dicomParser.DataSet,
  facts: { size: number; bytesRead: number; path?: string },
): InstanceIdentity {
  const name = facts.path ?? 'The file';
  const required = {
    sopClassUid: [ParserTag.SOPClassUID, 'SOP Class UID (0008,0016)'],
    sopInstanceUid: [ParserTag.SOPInstanceUID, 'SOP Instance UID (0008,0018)'],
    studyInstanceUid: [ParserTag.StudyInstanceUID, 'Study Instance UID (0020,000D)'],
    seriesInstanceUid: [ParserTag.SeriesInstanceUID, 'Series Instance UID (0020,000E)'],
  } as const;
  const found: Partial<Record<keyof typeof required, string>> = {};
  const missing: string[] = [];
  for (const [key, [tag, label]] of Object.entries(required) as Array<
    [keyof typeof required, readonly [string, string]]
  >) {
    const value = readUid(dataSet, tag);
    if (value) found[key] = value;
    else missing.push(label);
  }
  if (missing.length > 0) {
    throw new DicomFileError('MISSING_UID', `${name} has no ${missing.join(', ')}.`, facts.path);
  }
  // A NUL inside a UID would be cut there by any C-string reader (dicom-parser's string()
  // among them), and "1.2.3\0.4" would become the UID of another instance: refuse the file.
  const withNul = (Object.entries(found) as Array<[keyof typeof required, string]>).filter(
    ([, value]) => value.includes('\0'),
  );
  if (withNul.length > 0) {
    const labels = withNul.map(([key]) => required[key][1]).join(', ');
    throw new DicomFileError(
      'INVALID_UID',
      `${name} has a NUL inside its ${labels} (PS3.5 §9.1: a UID holds only digits and dots).`,
      facts.path,
    );
  }
  const transferSyntaxUid = readUid(dataSet, ParserTag.TransferSyntaxUID);
  if (!transferSyntaxUid) {
    throw new DicomFileError(
      'BAD_META',
      `${name} has no Transfer Syntax UID (0002,0010).`,
      facts.path,
    );
  }

  const warnings: string[] = [];
  for (const [key, value] of Object.entries(found)) {
    if (!isValidUid(value)) warnings.push(`${key} "${value}" is not a valid UID (PS3.5 §9.1).`);
  }
  // PS3.10 §7.1: Media Storage SOP Class/Instance UID must equal the data set's.
  const mediaClass = readUid(dataSet, ParserTag.MediaStorageSOPClassUID);
  const mediaInstance = readUid(dataSet, ParserTag.MediaStorageSOPInstanceUID);
  if (mediaClass && mediaClass !== found.sopClassUid) {
    warnings.push(
      `MediaStorageSOPClassUID ${mediaClass} differs from SOPClassUID ${found.sopClassUid}.`,
    );
  }
  if (mediaInstance && mediaInstance !== found.sopInstanceUid) {
    warnings.push(
      `MediaStorageSOPInstanceUID ${mediaInstance} differs from SOPInstanceUID ${found.sopInstanceUid}.`,
    );
  }

  const identity: InstanceIdentity = {
    sopClassUid: found.sopClassUid!,
    sopInstanceUid: found.sopInstanceUid!,
    seriesInstanceUid: found.seriesInstanceUid!,
    studyInstanceUid: found.studyInstanceUid!,
    transferSyntaxUid,
    size: facts.size,
    bytesRead: facts.bytesRead,
    warnings,
  };
  if (dataSet.elements[ParserTag.PatientID]) identity.patientIdPresent = true;
  const patientId = readText(dataSet, ParserTag.PatientID);
  if (patientId) identity.patientId = patientId;
  const patientName = readText(dataSet, ParserTag.PatientName);
  if (patientName) identity.patientName = patientName;
  return identity;
}

/**
 * A UI value without its trailing NUL/space padding (PS3.5 §6.2), or undefined when
 * absent/empty. Read from the bytes, not with dicom-parser's string(), which stops at the
 * first NUL: a NUL inside the value must stay visible so the caller can refuse it.
 */
function readUid(dataSet: dicomParser.DataSet, tag: string): string | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length === UNDEFINED_LENGTH) return undefined;
  const end = element.dataOffset + element.length;
  if (end > dataSet.byteArray.length) return undefined;
  const raw = Buffer.from(
    dataSet.byteArray.buffer,
    dataSet.byteArray.byteOffset + element.dataOffset,
    element.length,
  ).toString('latin1');
  return raw.replace(/[\0 ]+$/, '').replace(/^ +/, '') || undefined;
}

/** A string value, guarded against elements that run past the bytes we have. */
function readText(dataSet: dicomParser.DataSet, tag: string): string | undefined {
  const element = dataSet.elements[tag];
  if (!element) return undefined;
  if (
    element.length !== UNDEFINED_LENGTH &&
    element.dataOffset + element.length > dataSet.byteArray.length
  ) {
    return undefined;
  }
  try {
    const value = dataSet.string(tag);
    return value === undefined || value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

function lastElementOverruns(dataSet: dicomParser.DataSet): boolean {
  const limit = dataSet.byteArray.length;
  for (const element of Object.values(dataSet.elements)) {
    if (element.length !== UNDEFINED_LENGTH && element.dataOffset + element.length > limit)
      return true;
  }
  return false;
}

/**
 * Data set tags are in ascending order (PS3.5 §7.1): once an element after `tag` has been
 * read, every element up to `tag` is complete in the bytes.
 */
function hasElementAfter(dataSet: dicomParser.DataSet, tag: string): boolean {
  const limit = dataSet.byteArray.length;
  return Object.values(dataSet.elements).some(
    (element) =>
      element.tag > tag && !element.tag.startsWith('x0002') && element.dataOffset <= limit,
  );
}

function emptyDataSet(bytes: Buffer): dicomParser.DataSet {
  return { byteArray: bytes, elements: {} } as unknown as dicomParser.DataSet;
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }` (parseDicom). */
function splitParserError(error: unknown): { exception: unknown; dataSet?: dicomParser.DataSet } {
  if (error && typeof error === 'object' && 'exception' in error) {
    const wrapped = error as { exception: unknown; dataSet?: dicomParser.DataSet };
    return wrapped.dataSet
      ? { exception: wrapped.exception, dataSet: wrapped.dataSet }
      : { exception: wrapped.exception };
  }
  return { exception: error };
}

function unwrapParserError(error: unknown): unknown {
  return splitParserError(error).exception;
}

function toDicomFileError(error: unknown, path: string | undefined): DicomFileError {
  const message = messageOf(error);
  const name = path ?? 'The file';
  // dicom-parser's words for running out of bytes: 'maxPosition' is an item longer than
  // what is left, 'byteArray length' a data set that starts at the end of the file.
  if (
    /past end of buffer|buffer overrun|eof encountered|unexpected end of file|end of buffer|maxPosition|greater than or equal to 'byteArray' length/i.test(
      message,
    )
  ) {
    return new DicomFileError('TRUNCATED', `${name} is truncated (${message}).`, path, {
      cause: error,
    });
  }
  if (/DICM prefix not found/i.test(message)) {
    return new DicomFileError('NOT_DICOM', `${name} is not a DICOM Part 10 file.`, path, {
      cause: error,
    });
  }
  if (/meta header|0002,0010/i.test(message)) {
    return new DicomFileError(
      'BAD_META',
      `${name} has unusable File Meta Information (${message}).`,
      path,
      { cause: error },
    );
  }
  return new DicomFileError(
    'PARSE_ERROR',
    `${name} could not be parsed as DICOM (${message}).`,
    path,
    { cause: error },
  );
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return String(error);
}

function asBuffer(bytes: Uint8Array): Buffer {
  // dicom-parser's Node inflate path calls Buffer#copy: hand it a Buffer view, no copy.
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hexTag(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}
