/**
 * Streaming multipart/related parser and writer for DICOMweb
 * (PS3.18 §8.7.3.5, RFC 2046 §5.1.1, RFC 2387).
 *
 * Plain Node 20: no `vscode` import. The parser never buffers a whole part: the
 * memory it holds is one source chunk plus a delimiter-sized carry-over, so a
 * multi-gigabyte WADO-RS study passes through in bounded memory.
 */

const CR = 0x0d;
const LF = 0x0a;
const HYPHEN = 0x2d;
const SPACE = 0x20;
const HTAB = 0x09;

/**
 * Longest run of transport padding (LWSP after the boundary, RFC 2046 §5.1.1) we
 * accept. The RFC puts no limit on it; we need one so a hostile body cannot make the
 * parser hold an unbounded "maybe a delimiter" region in memory.
 */
const MAX_TRANSPORT_PADDING = 1024;

const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const utf8 = new TextEncoder();

/** Reasons a multipart body cannot be parsed or written. */
export type MultipartErrorCode =
  /** The Content-Type has no (or an empty) `boundary` parameter. */
  | 'MISSING_BOUNDARY'
  /** The Content-Type is not `multipart/*`. */
  | 'NOT_MULTIPART'
  /** Bytes that cannot be a multipart body (no delimiter, header line without a colon, absurd padding). */
  | 'MALFORMED'
  /** The body ended before the close delimiter `--boundary--`. */
  | 'TRUNCATED'
  /** A part's header block exceeded `maxHeaderBytes`. */
  | 'HEADERS_TOO_LARGE'
  /** A part body exceeded the limit given to {@link readPartBody}. */
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

// ---------------------------------------------------------------------------
// Content-Type
// ---------------------------------------------------------------------------

/**
 * Parses a Content-Type (or one Accept element) into its media type and parameters
 * (RFC 9110 §8.3.1). Media type and parameter names are lower-cased; parameter values
 * are unquoted with backslash escapes resolved and keep their case (boundaries are
 * case-sensitive). A quoted value may contain `;` and `=`, which Orthanc relies on:
 * `multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary=abc`.
 * The first occurrence of a repeated parameter wins. Never throws.
 */
export function parseContentType(header: string): {
  mediaType: string;
  params: Record<string, string>;
} {
  const params: Record<string, string> = {};
  const text = header ?? '';
  let pos = text.indexOf(';');
  const mediaType = (pos < 0 ? text : text.slice(0, pos)).trim().toLowerCase();
  if (pos < 0) return { mediaType, params };

  const n = text.length;
  pos++; // past ';'
  while (pos < n) {
    while (pos < n && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === ';')) pos++;
    const nameStart = pos;
    while (pos < n && text[pos] !== '=' && text[pos] !== ';') pos++;
    const name = text.slice(nameStart, pos).trim().toLowerCase();
    if (pos >= n || text[pos] === ';') continue; // parameter without '=': ignored
    pos++; // past '='
    while (pos < n && (text[pos] === ' ' || text[pos] === '\t')) pos++;
    let value: string;
    if (text[pos] === '"') {
      // quoted-string with quoted-pair (RFC 9110 §5.6.4)
      pos++;
      let out = '';
      while (pos < n && text[pos] !== '"') {
        if (text[pos] === '\\' && pos + 1 < n) pos++;
        out += text[pos];
        pos++;
      }
      pos++; // past closing quote (or end of an unterminated string: tolerated)
      value = out;
      while (pos < n && text[pos] !== ';') pos++; // junk after the quote is ignored
    } else {
      const valueStart = pos;
      while (pos < n && text[pos] !== ';') pos++;
      value = text.slice(valueStart, pos).trim();
    }
    if (name && !Object.prototype.hasOwnProperty.call(params, name)) {
      Object.defineProperty(params, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return { mediaType, params };
}

/**
 * The transfer syntax a multipart answer's Content-Type names for all its parts
 * (PS3.18 §8.7.3.5.2), also where Orthanc nests it inside the quoted type:
 * `type="application/octet-stream; transfer-syntax=…"`.
 */
export function transferSyntaxFromType(params: Record<string, string>): string | undefined {
  if (params['transfer-syntax']) return params['transfer-syntax'];
  return params.type ? parseContentType(params.type).params['transfer-syntax'] : undefined;
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/** One body part of a multipart response. Read `body` at most once, before asking for the next part. */
export interface MultipartPart {
  /** Position of the part in the body, from 0. */
  index: number;
  /** Part headers with lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The part's own Content-Type: it may differ per part (PS3.18 §8.7.3.5). Absent means text/plain per RFC 2046 §5.1.1. */
  contentType?: string;
  /** The part's Content-Location (PS3.18 §8.7.3.5.1 bulk data / frames). */
  contentLocation?: string;
  /** The part's Content-ID, as sent (angle brackets kept); compare with {@link rootPartIndex} or {@link sameContentId}. */
  contentId?: string;
  /**
   * The part's bytes, streamed. Chunks may be views into the source's chunks; they are
   * never reused or mutated by the parser. If the consumer does not read (or stops
   * reading) the body, the parser drains it when asked for the next part.
   */
  body: AsyncIterable<Uint8Array>;
}

/** Options for {@link parseMultipart}. */
export interface ParseMultipartOptions {
  /** Largest header block of one part, in bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Aborts reading; the iterator then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Parses a multipart/related body as a stream of parts.
 *
 * The boundary comes from the `boundary` parameter of `contentType` and is never
 * sniffed from the body (PS3.18 §8.7.3.5; sniffing breaks on Orthanc). Preamble and
 * epilogue are skipped, transport padding after a boundary is allowed, and the
 * boundary string inside part data is data unless it forms a full delimiter line
 * (RFC 2046 §5.1.1). Errors ({@link MultipartError}: NOT_MULTIPART, MISSING_BOUNDARY,
 * MALFORMED, TRUNCATED, HEADERS_TOO_LARGE) reject the iterator's `next()` or the part
 * body's `next()`; they never hang. The source iterator is closed (`return()`) when
 * parsing ends, fails or the consumer stops early.
 *
 * Parts must be consumed sequentially: read `part.body` (or not), then ask for the next part.
 */
export async function* parseMultipart(
  body: AsyncIterable<Uint8Array>,
  contentType: string,
  options: ParseMultipartOptions = {},
): AsyncGenerator<MultipartPart, void, undefined> {
  const { mediaType, params } = parseContentType(contentType);
  const boundary = params['boundary'];
  if (!mediaType.startsWith('multipart/') || !boundary) {
    // Release the body (a socket) even though it is never read.
    await body[Symbol.asyncIterator]()
      .return?.()
      ?.catch(() => undefined);
    if (!mediaType.startsWith('multipart/')) {
      throw new MultipartError(
        'NOT_MULTIPART',
        `parseMultipart: expected a multipart Content-Type, got "${mediaType}"`,
      );
    }
    throw new MultipartError(
      'MISSING_BOUNDARY',
      'parseMultipart: the Content-Type has no boundary parameter',
    );
  }
  const reader = new MultipartReader(body, boundary, options);
  try {
    yield* reader.parts();
  } finally {
    await reader.close();
  }
}

/** Buffers one part body (e.g. a DICOM JSON or a small frame). Throws PART_TOO_LARGE past `maxBytes`. */
export async function readPartBody(
  part: Pick<MultipartPart, 'body'>,
  maxBytes = Infinity,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of part.body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new MultipartError('PART_TOO_LARGE', `readPartBody: part exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

/** Compares two Content-IDs ignoring the angle brackets of msg-id (RFC 2392) and surrounding space. */
export function sameContentId(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const strip = (s: string) =>
    s
      .trim()
      .replace(/^<(.*)>$/, '$1')
      .trim();
  return strip(a) === strip(b);
}

/**
 * Index of the root part (RFC 2387 §3.2): the part whose Content-ID equals the `start`
 * parameter, else the first part (also when `start` matches nothing).
 */
export function rootPartIndex(
  parts: ReadonlyArray<{ contentId?: string | undefined }>,
  start?: string,
): number {
  if (start !== undefined && start !== '') {
    const i = parts.findIndex((p) => sameContentId(p.contentId, start));
    if (i >= 0) return i;
  }
  return 0;
}

type DelimiterKind =
  | { type: 'need-more' }
  | { type: 'data' }
  | { type: 'close'; end: number }
  | { type: 'delimiter'; lineEnd: number };

/**
 * Decides what follows a `CRLF--boundary` match at `pos` (RFC 2046 §5.1.1): `--`
 * closes, `[ \t]* CRLF` is a delimiter line, anything else means the boundary
 * string is just part data (a longer string that starts with the boundary).
 */
function classifyAfterDelimiter(buf: Buffer, pos: number): DelimiterKind {
  const n = buf.length;
  if (pos >= n) return { type: 'need-more' };
  if (buf[pos] === HYPHEN) {
    if (pos + 1 >= n) return { type: 'need-more' };
    return buf[pos + 1] === HYPHEN ? { type: 'close', end: pos + 2 } : { type: 'data' };
  }
  let p = pos;
  while (p < n && (buf[p] === SPACE || buf[p] === HTAB)) p++;
  if (p - pos > MAX_TRANSPORT_PADDING) {
    throw new MultipartError(
      'MALFORMED',
      'parseMultipart: more than 1024 bytes of padding after a boundary',
    );
  }
  if (p >= n) return { type: 'need-more' };
  if (buf[p] !== CR) return { type: 'data' };
  if (p + 1 >= n) return { type: 'need-more' };
  return buf[p + 1] === LF ? { type: 'delimiter', lineEnd: p + 2 } : { type: 'data' };
}

/**
 * The first delimiter line at or after `from`: `CRLF--boundary` followed by a close, a
 * line end or too few bytes to tell; a match followed by anything else is part data
 * (RFC 2046 §5.1.1: "--boundaryX" inside a body). `index` is -1 when there is none.
 */
function findDelimiter(
  buf: Buffer,
  delimiter: Buffer,
  from: number,
): { index: number; kind: DelimiterKind } {
  for (let at = from; ;) {
    const index = buf.indexOf(delimiter, at);
    if (index < 0) return { index, kind: { type: 'data' } };
    const kind = classifyAfterDelimiter(buf, index + delimiter.length);
    if (kind.type !== 'data') return { index, kind };
    at = index + 1;
  }
}

/**
 * Why a body ended before its close delimiter: inside the preamble, it held no delimiter
 * at all (MALFORMED) unless it was empty or cut off on the first delimiter (TRUNCATED).
 */
function endedEarlyError(
  phase: 'preamble' | 'body' | 'headers',
  unread: Buffer,
  delimiter: Buffer,
  sawBytes: boolean,
): MultipartError {
  if (phase === 'preamble') {
    const n = Math.min(unread.length, delimiter.length);
    const atDelimiter = n > 0 && unread.compare(delimiter, 0, n, 0, n) === 0;
    return sawBytes && !atDelimiter
      ? new MultipartError(
          'MALFORMED',
          'parseMultipart: the body contains no delimiter for the Content-Type boundary',
        )
      : new MultipartError('TRUNCATED', 'parseMultipart: the body is empty');
  }
  return new MultipartError(
    'TRUNCATED',
    `parseMultipart: the body ended inside a part ${phase === 'headers' ? 'header block' : 'body'}, before the close delimiter`,
  );
}

/** Length of the longest suffix of `buf` that is a proper prefix of `delimiter` (a delimiter split across chunks). */
function partialDelimiterSuffix(buf: Buffer, delimiter: Buffer): number {
  let p = buf.indexOf(CR, Math.max(0, buf.length - (delimiter.length - 1)));
  while (p >= 0) {
    if (buf.compare(delimiter, 0, buf.length - p, p) === 0) return buf.length - p;
    p = buf.indexOf(CR, p + 1);
  }
  return 0;
}

function toBuffer(chunk: Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (!(chunk instanceof Uint8Array)) {
    throw new TypeError('parseMultipart: the body must yield Uint8Array chunks');
  }
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Parses one part's header block (RFC 5322 field syntax, as RFC 2046 §5.1.1 requires). */
function parseHeaderBlock(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text === '') return headers;
  let lastName: string | undefined;
  for (const line of text.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lastName !== undefined) {
      // obsolete line folding (RFC 5322 §3.2.2): a continuation of the previous field
      headers[lastName] = `${headers[lastName]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new MultipartError(
        'MALFORMED',
        `parseMultipart: part header line without a name: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = Object.prototype.hasOwnProperty.call(headers, name)
      ? headers[name]
      : undefined;
    // defineProperty: a header called "__proto__" must stay a plain field
    Object.defineProperty(headers, name, {
      value: previous === undefined ? value : `${previous}, ${value}`,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    lastName = name;
  }
  return headers;
}

/** The parser's state, shared by the part generator and the part bodies. */
class MultipartReader {
  /** Unconsumed bytes. Starts with a virtual CRLF so the first delimiter may lack one (RFC 2046 §5.1.1). */
  private buf: Buffer = Buffer.from('\r\n', 'latin1');
  private readonly delimiter: Buffer;
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly maxHeaderBytes: number;
  private readonly signal: AbortSignal | undefined;
  private sourceDone = false;
  private pulling = false;
  private sawBytes = false;
  /** Incremented when the parser moves past a part; stale part bodies compare against it. */
  private partSeq = -1;
  private bodyOpened = false;
  private bodyDone = false;

  constructor(source: AsyncIterable<Uint8Array>, boundary: string, options: ParseMultipartOptions) {
    // RFC 2046 §5.1.1: delimiter := CRLF "--" boundary
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.iterator = source[Symbol.asyncIterator]();
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.signal = options.signal;
  }

  async *parts(): AsyncGenerator<MultipartPart, void, undefined> {
    // Preamble: everything before the first delimiter is ignored (RFC 2046 §5.1.1).
    for await (const _ of this.scan('preamble')) {
      /* discarded */
    }
    for (let index = 0; ; index++) {
      // this.buf starts with a delimiter that classifyAfterDelimiter accepted.
      const kind = classifyAfterDelimiter(this.buf, this.delimiter.length);
      if (kind.type === 'close') {
        await this.drainEpilogue();
        return;
      }
      if (kind.type !== 'delimiter')
        throw new Error('parseMultipart: internal error, not at a delimiter');
      // Keep the delimiter line's CRLF: an empty header block then reads as CRLF CRLF.
      this.buf = this.buf.subarray(kind.lineEnd - 2);
      const headers = await this.readHeaders();

      this.partSeq = index;
      this.bodyOpened = false;
      this.bodyDone = false;
      yield {
        index,
        headers,
        contentType: headers['content-type'],
        contentLocation: headers['content-location'],
        contentId: headers['content-id'],
        body: { [Symbol.asyncIterator]: () => this.openBody(index) },
      };

      // The consumer asked for the next part: drain whatever it left of this one.
      const unread = !this.bodyDone;
      this.partSeq = -1; // invalidates the previous part's body iterator
      if (unread) {
        for await (const _ of this.scan('body')) {
          /* skipped by the consumer */
        }
      }
    }
  }

  /** Releases the source (closes a socket the consumer abandoned). */
  async close(): Promise<void> {
    if (this.sourceDone) return;
    this.sourceDone = true;
    const ret = this.iterator.return?.();
    // While a next() is pending (abort), return() of an async generator would wait for it.
    if (ret && !this.pulling) await ret.catch(() => undefined);
    else ret?.catch(() => undefined);
  }

  private openBody(index: number): AsyncIterator<Uint8Array> {
    if (this.partSeq !== index || this.bodyOpened) {
      return (async function* (): AsyncGenerator<Uint8Array> {
        throw new MultipartError(
          'INVALID_STATE',
          'parseMultipart: a part body can be read once, before the next part is requested',
        );
      })();
    }
    this.bodyOpened = true;
    return this.partBody(index);
  }

  private async *partBody(index: number): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const chunk of this.scan('body')) {
      yield chunk;
      if (this.partSeq !== index) {
        throw new MultipartError(
          'INVALID_STATE',
          'parseMultipart: the parser moved to the next part while this body was being read',
        );
      }
    }
    if (this.partSeq === index) this.bodyDone = true;
  }

  /** Reads the next source chunk into `buf`; false at the end of the source. */
  private async pull(): Promise<boolean> {
    if (this.pulling) {
      throw new MultipartError(
        'INVALID_STATE',
        'parseMultipart: concurrent reads; consume parts and bodies sequentially',
      );
    }
    for (;;) {
      if (this.signal?.aborted) throw abortReason(this.signal);
      if (this.sourceDone) return false;
      this.pulling = true;
      let result: IteratorResult<Uint8Array>;
      try {
        result = await this.nextChunk();
      } finally {
        this.pulling = false;
      }
      if (result.done) {
        this.sourceDone = true;
        return false;
      }
      const chunk = toBuffer(result.value);
      if (chunk.length === 0) continue;
      this.sawBytes = true;
      // Zero-copy in the common case: the carry-over is usually empty.
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      return true;
    }
  }

  private nextChunk(): Promise<IteratorResult<Uint8Array>> {
    const signal = this.signal;
    const next = this.iterator.next();
    if (!signal) return next;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      next.then(
        (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /**
   * Yields the bytes before the next delimiter and leaves `buf` starting at it.
   * `buf` is updated before every yield so a consumer that stops mid-way leaves a
   * consistent state for the drain. Data are searched with Buffer.indexOf (native);
   * only a possible partial delimiter at the end of a chunk is carried over.
   */
  private async *scan(phase: 'preamble' | 'body'): AsyncGenerator<Buffer, void, undefined> {
    const d = this.delimiter;
    for (;;) {
      const buf = this.buf;
      const { index: idx, kind } = findDelimiter(buf, d, 0);

      if (idx >= 0) {
        if (idx > 0) {
          this.buf = buf.subarray(idx);
          if (phase === 'body') yield buf.subarray(0, idx);
        }
        if (kind.type !== 'need-more') return;
      } else {
        const keep = partialDelimiterSuffix(buf, d);
        const end = buf.length - keep;
        if (end > 0) {
          this.buf = buf.subarray(end);
          if (phase === 'body') yield buf.subarray(0, end);
        }
      }
      if (!(await this.pull())) throw this.endedEarly(phase);
    }
  }

  private endedEarly(phase: 'preamble' | 'body' | 'headers'): MultipartError {
    return endedEarlyError(phase, this.buf, this.delimiter, this.sawBytes);
  }

  /** Reads a header block that ends at CRLF CRLF (RFC 2046 §5.1.1 body-part := MIME-part-headers [CRLF *OCTET]). */
  private async readHeaders(): Promise<Record<string, string>> {
    let from = 0;
    for (;;) {
      const idx = this.buf.indexOf(CRLF_CRLF, from);
      const size = (idx >= 0 ? idx : this.buf.length) - 2;
      if (size > this.maxHeaderBytes) {
        throw new MultipartError(
          'HEADERS_TOO_LARGE',
          `parseMultipart: part headers exceed ${this.maxHeaderBytes} bytes`,
        );
      }
      if (idx >= 0) {
        const text = idx > 2 ? this.buf.toString('utf8', 2, idx) : '';
        this.buf = this.buf.subarray(idx + 4);
        return parseHeaderBlock(text);
      }
      from = Math.max(0, this.buf.length - 3);
      if (!(await this.pull())) throw this.endedEarly('headers');
    }
  }

  /** The epilogue after the close delimiter is ignored, but read so the connection can be reused. */
  private async drainEpilogue(): Promise<void> {
    this.buf = EMPTY;
    while (await this.pull()) this.buf = EMPTY;
  }
}

// ---------------------------------------------------------------------------
// Push parser
// ---------------------------------------------------------------------------

/** What {@link MultipartPushParser} calls, synchronously, as bytes are written to it. */
export interface MultipartPushHandler {
  /** A part's header block was read (names lower-cased, as {@link MultipartPart.headers}). */
  onPart(headers: Record<string, string>, index: number): void;
  /**
   * Bytes of the current part's body. The view may point into the chunk given to
   * {@link MultipartPushParser.write}, which the caller may reuse once `write` returns:
   * copy or consume it before returning.
   */
  onData(data: Buffer): void;
  /** The current part ended (its delimiter was read). */
  onPartEnd(index: number): void;
}

/**
 * The same multipart/related grammar as {@link parseMultipart}, driven the other way:
 * the caller writes chunks and the parser calls back synchronously, so a chunk can be a
 * view of one buffer that the caller refills for every read (download.ts reads a socket
 * that way, without a new buffer per read). The parser copies what it keeps between
 * writes: a partial delimiter or an unfinished header block, never part data.
 *
 * Errors are the same {@link MultipartError}s, thrown from `write` or `end`.
 */
export class MultipartPushParser {
  private readonly delimiter: Buffer;
  private readonly maxHeaderBytes: number;
  /** Owned bytes carried to the next write. Starts with the virtual CRLF (RFC 2046 §5.1.1). */
  private carry: Buffer = Buffer.from('\r\n', 'latin1');
  private phase: 'preamble' | 'headers' | 'body' | 'epilogue' = 'preamble';
  private index = -1;
  private sawBytes = false;
  private failed: MultipartError | undefined;

  constructor(
    boundary: string,
    private readonly handler: MultipartPushHandler,
    options: Pick<ParseMultipartOptions, 'maxHeaderBytes'> = {},
  ) {
    if (!boundary)
      throw new MultipartError(
        'MISSING_BOUNDARY',
        'parseMultipart: the Content-Type has no boundary parameter',
      );
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  /** Whether the close delimiter has been read (what follows is epilogue). */
  get closed(): boolean {
    return this.phase === 'epilogue';
  }

  write(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (chunk.byteLength === 0 || this.phase === 'epilogue') return;
    this.sawBytes = true;
    const input = toBuffer(chunk);
    // A carry-over is at most a delimiter or a header block: joining it copies little,
    // and only when a chunk ended inside one.
    const buf = this.carry.length === 0 ? input : Buffer.concat([this.carry, input]);
    this.carry = EMPTY;
    try {
      this.consume(buf);
    } catch (error) {
      this.failed =
        error instanceof MultipartError ? error : new MultipartError('MALFORMED', String(error));
      throw error;
    }
  }

  /** The source ended: throws TRUNCATED (or MALFORMED) unless the close delimiter was read. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.phase === 'epilogue') return;
    throw endedEarlyError(this.phase, this.carry, this.delimiter, this.sawBytes);
  }

  private consume(buf: Buffer): void {
    const d = this.delimiter;
    let pos = 0;
    while (pos < buf.length) {
      if (this.phase === 'epilogue') return;
      if (this.phase === 'headers') {
        const idx = buf.indexOf(CRLF_CRLF, pos);
        const size = (idx >= 0 ? idx : buf.length) - pos - 2;
        if (size > this.maxHeaderBytes) {
          throw new MultipartError(
            'HEADERS_TOO_LARGE',
            `parseMultipart: part headers exceed ${this.maxHeaderBytes} bytes`,
          );
        }
        if (idx < 0) {
          this.carry = Buffer.from(buf.subarray(pos));
          return;
        }
        const headers = parseHeaderBlock(idx - pos > 2 ? buf.toString('utf8', pos + 2, idx) : '');
        pos = idx + 4;
        this.phase = 'body';
        this.handler.onPart(headers, this.index);
        continue;
      }
      // preamble or body: find the next delimiter line, as scan() does.
      const { index: idx, kind } = findDelimiter(buf, d, pos);
      if (idx < 0) {
        const keep = partialDelimiterSuffix(buf.subarray(pos), d);
        const end = buf.length - keep;
        if (end > pos && this.phase === 'body') this.handler.onData(buf.subarray(pos, end));
        if (keep > 0) this.carry = Buffer.from(buf.subarray(end));
        return;
      }
      if (idx > pos && this.phase === 'body') this.handler.onData(buf.subarray(pos, idx));
      if (kind.type === 'need-more') {
        this.carry = Buffer.from(buf.subarray(idx));
        return;
      }
      if (this.phase === 'body') this.handler.onPartEnd(this.index);
      if (kind.type === 'close') {
        this.phase = 'epilogue';
        return;
      }
      if (kind.type !== 'delimiter')
        throw new Error('parseMultipart: internal error, not at a delimiter');
      // Keep the delimiter line's CRLF: an empty header block then reads as CRLF CRLF.
      pos = kind.lineEnd - 2;
      this.index++;
      this.phase = 'headers';
    }
  }
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/** One part to write: for STOW-RS usually `{ contentType: 'application/dicom', body, length }`. */
export interface MultipartWriterPart {
  contentType: string;
  /** Extra part headers (not Content-Type). Names must be tokens, values must not contain CR or LF. */
  headers?: Record<string, string>;
  body: AsyncIterable<Uint8Array> | Uint8Array;
  /** Declared byte length; the writer fails with LENGTH_MISMATCH if the body differs (a Content-Length would lie). */
  length?: number;
}

/** RFC 2046 §5.1.1 bchars, 1–70 characters, not ending in a space. */
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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
    if (!TOKEN_PATTERN.test(name) || name.toLowerCase() === 'content-type') {
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
  // A boundary with tspecials (RFC 2045 §5.1, e.g. ':' or '=') must be quoted.
  const value = TOKEN_PATTERN.test(boundary) ? boundary : `"${boundary}"`;
  return `multipart/related; type="${type}"; boundary=${value}`;
}
