/**
 * The pull side of multipart/related (PS3.18 §8.7.3.5, RFC 2387): an async iterator of
 * parts with streamed bodies, for a body that arrives as an async iterable (an undici
 * response, an incoming request). It drives the one push parser (parser.ts) a source chunk
 * at a time, so it holds at most one source chunk plus the parser's small carry-over: a
 * multi-gigabyte WADO-RS study passes through in bounded memory.
 */
import { readWholeBody } from './body';
import { parseContentType } from './contentType';
import { MultipartError } from './errors';
import { MultipartPushParser, missingBoundary, type MultipartPushOptions } from './parser';

/**
 * One body part of a multipart message. Read `body` at most once, before asking for the next part.
 */
export interface MultipartPart {
  /** Position of the part in the body, from 0. */
  index: number;
  /** Part headers with lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /**
   * The part's own Content-Type: it may differ per part (PS3.18 §8.7.3.5). Absent means text/plain
   * per RFC 2046 §5.1.1.
   */
  contentType?: string;
  /** The part's Content-Location (PS3.18 §8.7.3.5.1 bulk data / frames). */
  contentLocation?: string;
  /**
   * The part's Content-ID, as sent (angle brackets kept); compare with {@link rootPartIndex} or
   * {@link sameContentId}.
   */
  contentId?: string;
  /**
   * The part's bytes, streamed. Chunks may be views into the source's chunks; they are
   * never reused or mutated by the parser. If the consumer does not read (or stops
   * reading) the body, the parser drains it when asked for the next part.
   */
  body: AsyncIterable<Uint8Array>;
}

/** Options for {@link parseMultipart}. */
export interface ParseMultipartOptions extends MultipartPushOptions {
  /** Aborts reading; the iterator then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Parses a multipart/related body as a stream of parts.
 *
 * The boundary comes from the `boundary` parameter of `contentType` and is never
 * sniffed from the body (PS3.18 §8.7.3.5; sniffing breaks on Orthanc). The grammar is
 * the push parser's (parser.ts). Errors ({@link MultipartError}: NOT_MULTIPART,
 * MISSING_BOUNDARY, MALFORMED, TRUNCATED, HEADERS_TOO_LARGE) reject the iterator's `next()`
 * or the part body's `next()`, whichever is reading when the bad bytes are reached; they
 * never hang. The source iterator is closed (`return()`) when parsing ends, fails or the
 * consumer stops early.
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
    throw missingBoundary();
  }
  const reader = new PartReader(body, boundary, options);
  try {
    yield* reader.parts();
  } finally {
    await reader.close();
  }
}

/**
 * Buffers one part body (e.g. a DICOM JSON or a small frame). Throws PART_TOO_LARGE past
 * `maxBytes`.
 */
export function readPartBody(
  part: Pick<MultipartPart, 'body'>,
  maxBytes = Infinity,
): Promise<Uint8Array> {
  return readWholeBody(
    part.body,
    maxBytes,
    (limit) => new MultipartError('PART_TOO_LARGE', `readPartBody: part exceeds ${limit} bytes`),
  );
}

/**
 * Compares two Content-IDs ignoring the angle brackets of msg-id (RFC 2392) and surrounding space.
 */
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

/** What the push parser reported, in order, for the chunks read so far. */
type PartEvent =
  | { type: 'part'; index: number; headers: Record<string, string> }
  | { type: 'data'; data: Buffer }
  | { type: 'end' };

/**
 * The pull wrapper's state, shared by the part generator and the part bodies: the source,
 * the push parser, and the events one source chunk produced that nobody has taken yet.
 */
class PartReader {
  private readonly parser: MultipartPushParser;
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly signal: AbortSignal | undefined;
  /** Events of the last chunk written to the parser; those before `taken` were handed out. */
  private events: PartEvent[] = [];
  private taken = 0;
  /** What the parser threw for the last chunk; it comes after the events that chunk produced. */
  private failure: { error: unknown } | undefined;
  private sourceDone = false;
  private pulling = false;
  /** The part whose body may be read; -1 once the consumer asked for the next part. */
  private current = -1;
  private bodyOpened = false;

  constructor(source: AsyncIterable<Uint8Array>, boundary: string, options: ParseMultipartOptions) {
    this.iterator = source[Symbol.asyncIterator]();
    this.signal = options.signal;
    this.parser = new MultipartPushParser(
      boundary,
      {
        onPart: (headers, index) => this.events.push({ type: 'part', index, headers }),
        onData: (data) => this.events.push({ type: 'data', data }),
        onPartEnd: () => this.events.push({ type: 'end' }),
      },
      options,
    );
  }

  async *parts(): AsyncGenerator<MultipartPart, void, undefined> {
    for (;;) {
      const event = await this.nextEvent();
      if (event === undefined) {
        await this.drainEpilogue();
        return;
      }
      // Data and ends of a body the consumer skipped (or left half-read) are drained here.
      if (event.type !== 'part') continue;
      const { index, headers } = event;
      this.current = index;
      this.bodyOpened = false;
      yield {
        index,
        headers,
        contentType: headers['content-type'],
        contentLocation: headers['content-location'],
        contentId: headers['content-id'],
        body: { [Symbol.asyncIterator]: () => this.openBody(index) },
      };
      // The consumer asked for the next part: the previous body can no longer be read.
      this.current = -1;
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
    if (this.current !== index || this.bodyOpened) {
      const error = new MultipartError(
        'INVALID_STATE',
        'parseMultipart: a part body can be read once, before the next part is requested',
      );
      return { next: () => Promise.reject(error) };
    }
    this.bodyOpened = true;
    return this.partBody(index);
  }

  private async *partBody(index: number): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      if (this.current !== index) {
        throw new MultipartError(
          'INVALID_STATE',
          'parseMultipart: the parser moved to the next part while this body was being read',
        );
      }
      const event = await this.nextEvent();
      // Within a part the parser reports only data, then the part's end.
      if (event?.type !== 'data') return;
      yield event.data;
    }
  }

  /**
   * The next event, reading source chunks until one produces any; undefined once the close
   * delimiter was read. A parser error is thrown after the events before it were taken, so
   * a part that ended well is still read whole. The end of the source before the close
   * delimiter throws TRUNCATED or MALFORMED (the parser's `end`).
   */
  private async nextEvent(): Promise<PartEvent | undefined> {
    for (;;) {
      if (this.taken < this.events.length) return this.events[this.taken++];
      if (this.failure) throw this.failure.error;
      if (this.parser.closed) return undefined;
      if (!(await this.pull())) {
        this.parser.end();
        return undefined;
      }
    }
  }

  /** Reads the next source chunk into the parser; false at the end of the source. */
  private async pull(): Promise<boolean> {
    if (this.pulling) {
      throw new MultipartError(
        'INVALID_STATE',
        'parseMultipart: concurrent reads; consume parts and bodies sequentially',
      );
    }
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
    this.write(result.value);
    return true;
  }

  /** Feeds one chunk to the parser (which ignores an empty one and the epilogue). */
  private write(chunk: Uint8Array): void {
    this.events = [];
    this.taken = 0;
    try {
      this.parser.write(chunk);
    } catch (error) {
      this.failure = { error };
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
   * The epilogue after the close delimiter is ignored, but read so the connection can be reused.
   */
  private async drainEpilogue(): Promise<void> {
    while (await this.pull()) {
      /* the parser ignores epilogue bytes */
    }
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
