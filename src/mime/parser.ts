/**
 * The multipart/related grammar (RFC 2046 §5.1.1, RFC 2387; PS3.18 §8.7.3.5), written once:
 * a push parser. The caller writes chunks and the parser calls back synchronously with a
 * part's headers, its bytes and its end. The pull wrapper (reader.ts) and the socket-read
 * download both drive this one parser.
 *
 * Memory: part data is passed on as views of the written chunk, never buffered; the parser
 * keeps (copies) only what it cannot decide yet between writes: a possible partial
 * delimiter or an unfinished header block, both bounded.
 */
import { MultipartError } from './errors';
import { DEFAULT_MAX_HEADER_BYTES, readHeaderBlock } from './partHeaders';

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

const EMPTY = Buffer.alloc(0);

/** Options of {@link MultipartPushParser}. */
export interface MultipartPushOptions {
  /** Largest header block of one part, in bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
}

/** What {@link MultipartPushParser} calls, synchronously, as bytes are written to it. */
export interface MultipartPushHandler {
  /** A part's header block was read (names lower-cased, repeated fields joined with ", "). */
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

type Phase = 'preamble' | 'headers' | 'body' | 'epilogue';

/**
 * Parses a multipart body pushed to it in chunks. The boundary is given by the caller (from
 * the Content-Type, PS3.18 §8.7.3.5: never sniffed from the body). Preamble and epilogue are
 * skipped, transport padding after a boundary is allowed, and the boundary string inside
 * part data is data unless it forms a full delimiter line (RFC 2046 §5.1.1).
 *
 * A chunk may be a view of one buffer that the caller refills for every read (download.ts
 * reads a socket that way): part data is handed out as views, and what is kept between
 * writes is copied.
 *
 * Errors are {@link MultipartError}s (MALFORMED, TRUNCATED, HEADERS_TOO_LARGE), thrown from
 * `write` or `end`; after one, every further `write` throws it again.
 */
export class MultipartPushParser {
  /** RFC 2046 §5.1.1: delimiter := CRLF "--" boundary */
  private readonly delimiter: Buffer;
  private readonly maxHeaderBytes: number;
  /** Owned bytes carried to the next write. Starts with the virtual CRLF (RFC 2046 §5.1.1). */
  private carry: Buffer = Buffer.from('\r\n', 'latin1');
  private phase: Phase = 'preamble';
  private index = -1;
  private sawBytes = false;
  private failed: MultipartError | undefined;

  constructor(
    boundary: string,
    private readonly handler: MultipartPushHandler,
    options: MultipartPushOptions = {},
  ) {
    if (!boundary) throw missingBoundary();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  /** Whether the close delimiter has been read (what follows is epilogue). */
  get closed(): boolean {
    return this.phase === 'epilogue';
  }

  /** Parses the next bytes of the body, calling the handler for what they complete. */
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

  /** Walks `buf` phase by phase; what cannot be decided yet is left in `carry`. */
  private consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length && this.phase !== 'epilogue') {
      pos = this.phase === 'headers' ? this.consumeHeaders(buf, pos) : this.consumeData(buf, pos);
    }
  }

  /** A part's header block; returns where its body starts, or the end of `buf` (carried). */
  private consumeHeaders(buf: Buffer, pos: number): number {
    const block = readHeaderBlock(buf, pos, this.maxHeaderBytes);
    if (!block) {
      this.carry = Buffer.from(buf.subarray(pos));
      return buf.length;
    }
    this.phase = 'body';
    this.handler.onPart(block.headers, this.index);
    return block.bodyStart;
  }

  /**
   * Preamble or part data up to the next delimiter line; returns the position after the
   * delimiter line, or the end of `buf` when the rest is data or carried (a possible partial
   * delimiter, or a delimiter whose next bytes decide what it is).
   */
  private consumeData(buf: Buffer, pos: number): number {
    const { index: at, kind } = findDelimiter(buf, this.delimiter, pos);
    const inBody = this.phase === 'body';
    if (at < 0) {
      const keep = partialDelimiterSuffix(buf.subarray(pos), this.delimiter);
      const end = buf.length - keep;
      if (end > pos && inBody) this.handler.onData(buf.subarray(pos, end));
      if (keep > 0) this.carry = Buffer.from(buf.subarray(end));
      return buf.length;
    }
    if (at > pos && inBody) this.handler.onData(buf.subarray(pos, at));
    if (kind.type === 'need-more') {
      this.carry = Buffer.from(buf.subarray(at));
      return buf.length;
    }
    if (inBody) this.handler.onPartEnd(this.index);
    if (kind.type === 'close') {
      this.phase = 'epilogue';
      return buf.length;
    }
    if (kind.type !== 'delimiter')
      throw new Error('parseMultipart: internal error, not at a delimiter');
    // Keep the delimiter line's CRLF: an empty header block then reads as CRLF CRLF.
    this.index++;
    this.phase = 'headers';
    return kind.lineEnd - 2;
  }
}

/** The error for a Content-Type without a usable boundary (PS3.18 §8.7.3.5: it is required). */
export function missingBoundary(): MultipartError {
  return new MultipartError(
    'MISSING_BOUNDARY',
    'parseMultipart: the Content-Type has no boundary parameter',
  );
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
 * Data are searched with Buffer.indexOf (native).
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
 * Length of the longest suffix of `buf` that is a proper prefix of `delimiter` (a delimiter split
 * across chunks).
 */
function partialDelimiterSuffix(buf: Buffer, delimiter: Buffer): number {
  let p = buf.indexOf(CR, Math.max(0, buf.length - (delimiter.length - 1)));
  while (p >= 0) {
    if (buf.compare(delimiter, 0, buf.length - p, p) === 0) return buf.length - p;
    p = buf.indexOf(CR, p + 1);
  }
  return 0;
}

/**
 * Why a body ended before its close delimiter: inside the preamble, it held no delimiter
 * at all (MALFORMED) unless it was empty or cut off on the first delimiter (TRUNCATED).
 */
function endedEarlyError(
  phase: Exclude<Phase, 'epilogue'>,
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

function toBuffer(chunk: Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (!(chunk instanceof Uint8Array)) {
    throw new TypeError('parseMultipart: the body must yield Uint8Array chunks');
  }
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
