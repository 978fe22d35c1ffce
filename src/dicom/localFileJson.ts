/**
 * A local Part 10 file as the DICOM JSON of WADO-RS instance metadata (PS3.18 §10.4.1.1.2,
 * Annex F), read up to (not into) Pixel Data: a 1 GB multi-frame file costs its header only.
 *
 * Binary values (OB, OW, UN …, Pixel Data) are given as a BulkDataURI, as WADO-RS metadata
 * gives them (PS3.18 §F.2.6): the file's URI with the element's path as fragment
 * (`file:///…/ct.dcm#7FE00010`, `…#00540016/0/00181072`), which says where the bytes are
 * without putting them in the document. Values of at most {@link INLINE_BINARY_MAX_BYTES}
 * are InlineBinary (§F.2.7) instead: a private flag or a LUT descriptor is worth reading,
 * and a server's metadata inlines small values the same way.
 */
import { open } from 'node:fs/promises';
import type { CharsetWarning } from './charset';
import { dataSetToJson, type JsonDataset } from './dataSetJson';
import { DicomFileError, readDataSet } from './part10';
import { ParserTag } from './tags';
import { TransferSyntax } from './uids';

/** Binary values up to this size are InlineBinary; larger ones a BulkDataURI. */
export const INLINE_BINARY_MAX_BYTES = 64;
/** A header (everything before Pixel Data) larger than this is refused rather than read. */
export const HEADER_MAX_BYTES = 64 * 1024 * 1024;
const FIRST_READ = 256 * 1024;

export interface LocalJsonOptions {
  /** The URI the BulkDataURIs start with (the file's own URI). */
  bulkDataBase: string;
  /** Defaults to {@link HEADER_MAX_BYTES}. */
  headerMaxBytes?: number;
}

export interface LocalJson {
  dataset: JsonDataset;
  /** Character set findings (charset.ts), with the item path they were found in. */
  warnings: string[];
  /** What the document leaves out of a file that could only be read in part. */
  note?: string;
  /** Bytes read from the file. */
  bytesRead: number;
}

/**
 * Reads a local file's data set as DICOM JSON.
 *
 * @throws {DicomFileError} NOT_DICOM, TRUNCATED, BAD_META or PARSE_ERROR, or HEADER_TOO_LARGE
 *   when the header runs past `headerMaxBytes`.
 */
export async function readLocalDicomJson(
  path: string,
  options: LocalJsonOptions,
): Promise<LocalJson> {
  const { bytes, dataSet, note } = await readHeader(
    path,
    options.headerMaxBytes ?? HEADER_MAX_BYTES,
  );
  // Each finding once, where first seen: every item of a sequence repeats its data set's.
  const warnings = new Map<string, string>();
  const dataset = dataSetToJson(dataSet, {
    bulkDataUri: (tagPath) => `${options.bulkDataBase}#${tagPath.join('/')}`,
    inlineBinaryMaxBytes: INLINE_BINARY_MAX_BYTES,
    onCharsetWarning: (warning: CharsetWarning, itemPath) => {
      if (warnings.has(warning.message)) return;
      const where = itemPath.length ? `${itemPath.join('/')}: ` : '';
      warnings.set(warning.message, `${where}${warning.message}`);
    },
  });
  return { dataset, warnings: [...warnings.values()], bytesRead: bytes, ...(note ? { note } : {}) };
}

/** The data set up to Pixel Data, reading a prefix that grows ×4 up to the limit. */
async function readHeader(path: string, limit: number) {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, FIRST_READ, limit);
    for (;;) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      const whole = bytesRead >= size || bytesRead < length;
      const prefix = buffer.subarray(0, bytesRead);
      const parsed = tryParse(prefix, whole);
      if (parsed) return { bytes: bytesRead, ...parsed };
      if (length >= limit) {
        throw new DicomFileError(
          'HEADER_TOO_LARGE',
          `The data set before Pixel Data is larger than ${limit / 1024 / 1024} MB (the limit for a DICOM JSON document).`,
        );
      }
      length = Math.min(size, length * 4, limit);
    }
  } finally {
    await handle.close();
  }
}

function tryParse(prefix: Buffer, whole: boolean): Parsed | undefined {
  if (whole) return parseWhole(prefix);
  try {
    const dataSet = readDataSet(prefix, { untilTag: ParserTag.PixelData });
    // A deflated data set (PS3.5 §A.5) is only readable whole.
    const syntax = dataSet.string(ParserTag.TransferSyntaxUID)?.replace(/\0/g, '');
    if (syntax === TransferSyntax.DeflatedExplicitVRLittleEndian) return undefined;
    return dataSet.elements[ParserTag.PixelData] ? { dataSet } : undefined;
  } catch (error) {
    if (error instanceof DicomFileError && error.code === 'NOT_DICOM') throw error;
    return undefined;
  }
}

interface Parsed {
  dataSet: ReturnType<typeof readDataSet>;
  /** What the document leaves out, when the file could only be read in part. */
  note?: string;
}

/**
 * The whole file, or, when it ends inside its Pixel Data (the metadata does not need those
 * bytes), the data set before them with a note: what could be read is shown.
 */
function parseWhole(bytes: Buffer): Parsed {
  try {
    return { dataSet: readDataSet(bytes) };
  } catch (error) {
    if (!(error instanceof DicomFileError) || error.code === 'NOT_DICOM') throw error;
    try {
      const dataSet = readDataSet(bytes, { untilTag: ParserTag.PixelData });
      if (!dataSet.elements[ParserTag.PixelData]) throw error;
      return { dataSet, note: `${error.message} Shown: the data set up to Pixel Data.` };
    } catch {
      throw error;
    }
  }
}
