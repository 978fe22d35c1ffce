/**
 * Writing multipart/related bodies (RFC 2387, RFC 2046 §5.1.1): STOW-RS requests
 * (PS3.18 §10.5) from the client, WADO-RS answers from the local server. Part bodies
 * stream through without buffering, and the exact length is known before the first byte,
 * so a request can carry Content-Length instead of chunked transfer coding.
 */
import { isToken, parameterValue } from './contentType';
import { MultipartError } from './errors';

const utf8 = new TextEncoder();

/** One part to write: for STOW-RS usually `{ contentType: 'application/dicom', body, length }`. */
export interface MultipartWriterPart {
  contentType: string;
  /**
   * Extra part headers (not Content-Type). Names must be tokens, values must not contain CR or LF.
   */
  headers?: Record<string, string>;
  body: AsyncIterable<Uint8Array> | Uint8Array;
  /**
   * Declared byte length; the writer fails with LENGTH_MISMATCH if the body differs (a
   * Content-Length would lie).
   */
  length?: number;
}

/** RFC 2046 §5.1.1 bchars, 1–70 characters, not ending in a space. */
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

function checkBoundary(boundary: string): void {
  if (!BOUNDARY_PATTERN.test(boundary)) {
    throw new MultipartError(
      'INVALID_ARGUMENT',
      `multipart writer: invalid boundary ${JSON.stringify(boundary)} (RFC 2046 §5.1.1)`,
    );
  }
}

function partHead(
  boundary: string,
  contentType: string,
  headers: Record<string, string> | undefined,
  first: boolean,
): Uint8Array {
  const lines = [`Content-Type: ${contentType}`];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!isToken(name) || name.toLowerCase() === 'content-type') {
      throw new MultipartError(
        'INVALID_ARGUMENT',
        `multipart writer: invalid part header name ${JSON.stringify(name)}`,
      );
    }
    lines.push(`${name}: ${value}`);
  }
  for (const line of lines) {
    if (/[\r\n]/.test(line)) {
      throw new MultipartError(
        'INVALID_ARGUMENT',
        'multipart writer: part header values must not contain CR or LF',
      );
    }
  }
  // The first delimiter needs no leading CRLF; later ones do (the CRLF belongs to the delimiter).
  return utf8.encode(`${first ? '' : '\r\n'}--${boundary}\r\n${lines.join('\r\n')}\r\n\r\n`);
}

function closeDelimiter(boundary: string): Uint8Array {
  return utf8.encode(`\r\n--${boundary}--\r\n`);
}

/**
 * Streams a multipart/related body (RFC 2387) from parts, e.g. for STOW-RS
 * (PS3.18 §10.5). Part bodies are passed through without buffering. The request's
 * Content-Type is `multipart/related; type="application/dicom"; boundary=<boundary>`.
 * Throws INVALID_ARGUMENT for a bad boundary/header or no parts (RFC 2046 requires one),
 * LENGTH_MISMATCH when a part's byte count differs from its declared `length`.
 */
export async function* multipartBody(
  parts: AsyncIterable<MultipartWriterPart> | Iterable<MultipartWriterPart>,
  boundary: string,
): AsyncGenerator<Uint8Array, void, undefined> {
  checkBoundary(boundary);
  let first = true;
  for await (const part of parts) {
    yield partHead(boundary, part.contentType, part.headers, first);
    first = false;
    let written = 0;
    if (part.body instanceof Uint8Array) {
      written = part.body.byteLength;
      if (written > 0) yield part.body;
    } else {
      for await (const chunk of part.body) {
        written += chunk.byteLength;
        if (chunk.byteLength > 0) yield chunk;
      }
    }
    if (part.length !== undefined && part.length !== written) {
      throw new MultipartError(
        'LENGTH_MISMATCH',
        `multipart writer: a part declared ${part.length} bytes but produced ${written}`,
      );
    }
  }
  if (first)
    throw new MultipartError(
      'INVALID_ARGUMENT',
      'multipart writer: a multipart body needs at least one part (RFC 2046 §5.1.1)',
    );
  yield closeDelimiter(boundary);
}

/**
 * Exact byte length of the body {@link multipartBody} writes for parts of the given
 * lengths, content types (one per part, or one for all) and extra headers, so a STOW
 * request can send Content-Length instead of chunked transfer encoding.
 */
export function multipartLength(
  partLengths: readonly number[],
  contentTypes: readonly string[] | string,
  boundary: string,
  headers?: ReadonlyArray<Record<string, string> | undefined>,
): number {
  checkBoundary(boundary);
  if (partLengths.length === 0) {
    throw new MultipartError(
      'INVALID_ARGUMENT',
      'multipartLength: a multipart body needs at least one part (RFC 2046 §5.1.1)',
    );
  }
  if (typeof contentTypes !== 'string' && contentTypes.length !== partLengths.length) {
    throw new MultipartError(
      'INVALID_ARGUMENT',
      'multipartLength: one content type per part expected',
    );
  }
  let total = closeDelimiter(boundary).byteLength;
  partLengths.forEach((length, i) => {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new MultipartError(
        'INVALID_ARGUMENT',
        `multipartLength: invalid part length ${length}`,
      );
    }
    const contentType = typeof contentTypes === 'string' ? contentTypes : contentTypes[i]!;
    total += partHead(boundary, contentType, headers?.[i], i === 0).byteLength + length;
  });
  return total;
}

/** A fresh random boundary, `DICOMwebExplorer-` + 32 hex digits (crypto.getRandomValues). */
export function newBoundary(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `DICOMwebExplorer-${hex}`;
}

/** The Content-Type for a multipart/related request body, in the strict form PS3.18 §10.5 shows. */
export function multipartContentType(boundary: string, type = 'application/dicom'): string {
  checkBoundary(boundary);
  // A boundary with tspecials (RFC 2045 §5.1, e.g. ':' or '=') must be quoted; `type` is
  // always quoted, as PS3.18 §10.5 writes it.
  return `multipart/related; type="${type}"; boundary=${parameterValue(boundary)}`;
}
