/**
 * Header fields: a body part's header block (RFC 2046 §5.1.1, whose fields follow RFC 5322
 * as RFC 7578 §4.8 also reads them) and, with the stricter HTTP grammar, the field lines of
 * an HTTP message head (RFC 9112 §5). One field-line parser for both, and the limit that
 * keeps a hostile header block from growing without end.
 */
import { MultipartError } from './errors';
import { isToken } from './contentType';

/** Largest header block of one part, in bytes, unless the caller sets another. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Which grammar the field lines follow:
 * - `mime`: a body part's headers (RFC 5322 §3.2.2, §2.2): obsolete line folding is
 *   unfolded, space around the name is tolerated.
 * - `http`: an HTTP message head (RFC 9112 §5.1, §5.2): the name must be a token right
 *   before the colon; a folded line is refused (the caller may leave such a message to a
 *   fuller HTTP parser).
 */
export type FieldGrammar = 'mime' | 'http';

/** The fields by lower-cased name, or the first line that is not a field line. */
export type FieldLines =
  { ok: true; fields: Record<string, string> } | { ok: false; badLine: string };

/**
 * Parses field lines into a record with lower-cased names (field names are case-insensitive,
 * RFC 9110 §5.1) and trimmed values; a repeated field is joined with ", " (§5.3).
 */
export function parseFieldLines(lines: readonly string[], grammar: FieldGrammar): FieldLines {
  const fields: Record<string, string> = {};
  let lastName: string | undefined;
  for (const line of lines) {
    const folded = line.startsWith(' ') || line.startsWith('\t');
    if (grammar === 'mime' && folded && lastName !== undefined) {
      // obsolete line folding (RFC 5322 §3.2.2): a continuation of the previous field
      fields[lastName] = `${fields[lastName]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const rawName = colon > 0 ? line.slice(0, colon) : '';
    if (colon <= 0 || (grammar === 'http' && !isToken(rawName)))
      return { ok: false, badLine: line };
    const name = rawName.trim().toLowerCase();
    appendField(fields, name, line.slice(colon + 1).trim());
    lastName = name;
  }
  return { ok: true, fields };
}

/** Adds a field value, joining a repeated field with ", " (RFC 9110 §5.3). */
function appendField(fields: Record<string, string>, name: string, value: string): void {
  const previous = Object.prototype.hasOwnProperty.call(fields, name) ? fields[name] : undefined;
  // defineProperty: a header called "__proto__" must stay a plain field
  Object.defineProperty(fields, name, {
    value: previous === undefined ? value : `${previous}, ${value}`,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Parses one part's header block (the text between the delimiter line and the empty line).
 * @throws {MultipartError} MALFORMED for a line that is neither a field nor a folded continuation
 */
export function parseHeaderBlock(text: string): Record<string, string> {
  if (text === '') return {};
  const result = parseFieldLines(text.split('\r\n'), 'mime');
  if (result.ok) return result.fields;
  throw new MultipartError(
    'MALFORMED',
    `parseMultipart: part header line without a name: ${JSON.stringify(result.badLine.slice(0, 80))}`,
  );
}

/**
 * Reads the header block that starts at `start` in `buf`, where `buf[start..start+2]` is the
 * CRLF that ended the delimiter line (kept so an empty header block reads as CRLF CRLF).
 * RFC 2046 §5.1.1: body-part := MIME-part-headers [CRLF *OCTET]. Returns the headers and
 * where the part's body starts, or undefined when the block has not ended yet in `buf`.
 * @throws {MultipartError} HEADERS_TOO_LARGE once the block is known to exceed `maxHeaderBytes`
 *   (also before it ends, so a block without end is refused instead of buffered)
 */
export function readHeaderBlock(
  buf: Buffer,
  start: number,
  maxHeaderBytes: number,
): { headers: Record<string, string>; bodyStart: number } | undefined {
  const end = buf.indexOf(CRLF_CRLF, start);
  const size = (end >= 0 ? end : buf.length) - start - 2;
  if (size > maxHeaderBytes) {
    throw new MultipartError(
      'HEADERS_TOO_LARGE',
      `parseMultipart: part headers exceed ${maxHeaderBytes} bytes`,
    );
  }
  if (end < 0) return undefined;
  const text = end - start > 2 ? buf.toString('utf8', start + 2, end) : '';
  return { headers: parseHeaderBlock(text), bodyStart: end + 4 };
}
