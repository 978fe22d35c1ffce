/**
 * The one error type of src/mime: every parser and writer failure is a MultipartError whose
 * `code` says why, so the client can map it to its own errors and the server to a 400.
 */

/** Reasons a multipart body cannot be parsed or written. */
export type MultipartErrorCode =
  /** The Content-Type has no (or an empty) `boundary` parameter. */
  | 'MISSING_BOUNDARY'
  /** The Content-Type is not `multipart/*`. */
  | 'NOT_MULTIPART'
  /**
   * Bytes that cannot be a multipart body (no delimiter, header line without a colon, absurd
   * padding).
   */
  | 'MALFORMED'
  /** The body ended before the close delimiter `--boundary--`. */
  | 'TRUNCATED'
  /** A part's header block exceeded `maxHeaderBytes`. */
  | 'HEADERS_TOO_LARGE'
  /** A part body exceeded the limit given to `readPartBody`. */
  | 'PART_TOO_LARGE'
  /** A part body was read twice, after the parser moved on, or concurrently with the parser. */
  | 'INVALID_STATE'
  /** Writer: a part produced a different number of bytes than its declared `length`. */
  | 'LENGTH_MISMATCH'
  /** Writer: a boundary or header that would produce an invalid or ambiguous body. */
  | 'INVALID_ARGUMENT';

/** Error thrown by the multipart parser and writer; `code` says why. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
  constructor(
    readonly code: MultipartErrorCode,
    message: string,
  ) {
    super(message);
  }
}
