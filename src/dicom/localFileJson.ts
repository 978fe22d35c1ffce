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
import type { CharsetWarning } from './charset';
import { dataSetToJson, type JsonDataset } from './dataSetJson';
import { DEFAULT_HEADER_LIMITS, readDicomHeader } from './headerReader';
import { DicomFileError } from './part10';

/** Binary values up to this size are InlineBinary; larger ones a BulkDataURI. */
export const INLINE_BINARY_MAX_BYTES = 64;
/** A header (everything before Pixel Data) larger than this is refused rather than read. */
export const HEADER_MAX_BYTES = 64 * 1024 * 1024;

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
 * @throws {DicomFileError} NOT_DICOM, PARSE_ERROR (nothing could be read) or HEADER_TOO_LARGE
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

/**
 * The data set up to Pixel Data, through the header reader the DICOM editor uses (one way
 * of reading a file's header). What could be read is shown, with the reader's problems as
 * the note, except where nothing useful can be: not Part 10, nothing parsed, or a header
 * past the limit (a document cut at an arbitrary element would mislead a diff).
 */
async function readHeader(path: string, limit: number) {
  const header = await readDicomHeader(
    path,
    { maxHeaderBytes: limit, initialBytes: Math.min(limit, DEFAULT_HEADER_LIMITS.initialBytes) },
    { deferFragments: true },
  );
  const problems = header.problems.join(' ');
  if (header.notDicom) throw new DicomFileError('NOT_DICOM', problems);
  if (header.headerTooLarge) {
    throw new DicomFileError(
      'HEADER_TOO_LARGE',
      `The data set before Pixel Data is larger than ${limit / 1024 / 1024} MB (the limit for a DICOM JSON document).`,
    );
  }
  if (!header.dataSet)
    throw new DicomFileError('PARSE_ERROR', problems || 'Nothing could be read.');
  return {
    bytes: header.bytesRead,
    dataSet: header.dataSet,
    note: problems ? `${problems} Shown: the data set read before that.` : undefined,
  };
}
