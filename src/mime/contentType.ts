/**
 * Media types and their parameters: the one parser of `type/subtype; name=value` headers
 * (Content-Type, one Accept element, a part's Content-Type, the quoted `type` parameter),
 * shared by the DICOMweb client and the local server.
 *
 * RFC 9110 §8.3.1 (media type), §5.6.6 (parameters), §5.6.4 (quoted strings), §12.5.1
 * (Accept); PS3.18 §8.7.3.5 for the `type`, `boundary` and `transfer-syntax` parameters of a
 * multipart/related DICOMweb message.
 */

/** RFC 9110 §5.6.2 token: what a parameter value may be without quotes, and a field name. */
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A media type (lower-cased) with its parameters (names lower-cased, values as sent, unquoted). */
export interface ContentType {
  mediaType: string;
  params: Record<string, string>;
}

/** Whether `text` is an RFC 9110 §5.6.2 token (a field name, an unquoted parameter value). */
export function isToken(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

/**
 * Parses a Content-Type (or one Accept element) into its media type and parameters
 * (RFC 9110 §8.3.1). Media type and parameter names are lower-cased (they are
 * case-insensitive, §5.6.6); parameter values are unquoted with backslash escapes resolved
 * and keep their case (boundaries are case-sensitive). A quoted value may contain `;` and
 * `=`, which Orthanc relies on:
 * `multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1";
 * boundary=abc`. Whitespace around `;` (§5.6.6 OWS) and, leniently, around `=` is skipped; empty
 * and valueless parameters are ignored. The first occurrence of a repeated parameter wins.
 * Never throws.
 */
export function parseContentType(header: string): ContentType {
  const params: Record<string, string> = {};
  const text = header ?? '';
  const semicolon = text.indexOf(';');
  const mediaType = (semicolon < 0 ? text : text.slice(0, semicolon)).trim().toLowerCase();
  if (semicolon < 0) return { mediaType, params };

  const n = text.length;
  let pos = semicolon + 1;
  while (pos < n) {
    while (pos < n && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === ';')) pos++;
    const nameStart = pos;
    while (pos < n && text[pos] !== '=' && text[pos] !== ';') pos++;
    const name = text.slice(nameStart, pos).trim().toLowerCase();
    if (pos >= n || text[pos] === ';') continue; // parameter without '=': ignored
    pos++; // past '='
    while (pos < n && (text[pos] === ' ' || text[pos] === '\t')) pos++;
    const value = text[pos] === '"' ? readQuotedString(text, pos) : readToken(text, pos);
    pos = value.end;
    if (name) setFirst(params, name, value.text);
  }
  return { mediaType, params };
}

/**
 * A quoted-string with quoted-pairs (RFC 9110 §5.6.4) starting at the quote at `start`. An
 * unterminated string runs to the end; anything after the closing quote up to the next `;`
 * is ignored. `end` is the position of that `;` (or the end of the text).
 */
function readQuotedString(text: string, start: number): { text: string; end: number } {
  const n = text.length;
  let pos = start + 1;
  let out = '';
  while (pos < n && text[pos] !== '"') {
    if (text[pos] === '\\' && pos + 1 < n) pos++;
    out += text[pos];
    pos++;
  }
  while (pos < n && text[pos] !== ';') pos++;
  return { text: out, end: pos };
}

/** An unquoted value: up to the next `;`, trimmed. */
function readToken(text: string, start: number): { text: string; end: number } {
  let pos = start;
  while (pos < text.length && text[pos] !== ';') pos++;
  return { text: text.slice(start, pos).trim(), end: pos };
}

/** Sets `name` unless it is already set; defineProperty so a `__proto__` parameter stays data. */
function setFirst(params: Record<string, string>, name: string, value: string): void {
  if (Object.prototype.hasOwnProperty.call(params, name)) return;
  Object.defineProperty(params, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** The media type of a header, lower-cased, without parameters (`''` for an empty header). */
export function mediaTypeOf(header: string): string {
  return parseContentType(header).mediaType;
}

/**
 * A parameter value as it is written: a token as is, anything else as a quoted-string
 * (RFC 9110 §5.6.6), e.g. a boundary with tspecials such as `:` or `=` (RFC 2045 §5.1).
 */
export function parameterValue(value: string): string {
  return isToken(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The transfer syntax a multipart message's Content-Type (or an Accept media range) names
 * for all its parts (PS3.18 §8.7.3.5.2), also where Orthanc nests it inside the quoted type:
 * `type="application/octet-stream; transfer-syntax=…"`.
 */
export function transferSyntaxFromType(params: Record<string, string>): string | undefined {
  if (params['transfer-syntax']) return params['transfer-syntax'];
  return params.type ? parseContentType(params.type).params['transfer-syntax'] : undefined;
}

/**
 * The media type inside the `type` parameter of a multipart/related type (RFC 2387 §3.1), without
 * its parameters.
 */
export function innerMediaType(params: Record<string, string>): string | undefined {
  return params.type ? parseContentType(params.type).mediaType : undefined;
}

/**
 * Splits a comma-separated header list (RFC 9110 §5.6.1) into trimmed, non-empty elements. A
 * comma inside a quoted-string (§5.6.4, with its quoted-pairs) belongs to the element:
 * `multipart/related; type="application/dicom, x", application/json` is two elements.
 */
export function splitHeaderList(header: string): string[] {
  const elements: string[] = [];
  let start = 0;
  let quoted = false;
  for (let pos = 0; pos < header.length; pos++) {
    const char = header[pos];
    if (quoted && char === '\\') pos++;
    else if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) {
      elements.push(header.slice(start, pos));
      start = pos + 1;
    }
  }
  elements.push(header.slice(start));
  return elements.map((element) => element.trim()).filter(Boolean);
}

/** One media range of an Accept header, with its weight. */
export interface AcceptRange extends ContentType {
  /** The `q` weight (RFC 9110 §12.4.2), 1 when absent or unreadable. */
  q: number;
}

/**
 * Splits an Accept header (RFC 9110 §12.5.1) into media ranges ordered by q (stable for
 * equal weights), without the ranges of q=0 ("not acceptable"). Quoted parameters keep
 * their commas and semicolons (`type="application/octet-stream; transfer-syntax=…"`,
 * Orthanc's form, PS3.18 §8.7.3.5.2). An absent or empty header is `*\/*`.
 */
export function parseAccept(header: string | undefined): AcceptRange[] {
  if (!header || !header.trim()) return [{ mediaType: '*/*', params: {}, q: 1 }];
  return splitHeaderList(header)
    .map((element): AcceptRange => {
      const { mediaType, params } = parseContentType(element);
      const q = params.q !== undefined ? Number(params.q) : 1;
      return { mediaType, params, q: Number.isFinite(q) ? q : 1 };
    })
    .filter((range) => range.q > 0)
    .map((range, index) => ({ range, index }))
    .sort((a, b) => b.range.q - a.range.q || a.index - b.index)
    .map((x) => x.range);
}
