/**
 * Bounds on what a server can make the client hold and wait for. A body read into memory
 * (QIDO and metadata JSON, rendered images, frames, bulk data, error and STOW answers,
 * operation status) has a size cap, and such a read has an overall deadline besides the
 * idle timeouts of http.ts: an endless or trickling body ends as a typed error, TOO_LARGE
 * or TIMEOUT, never as an extension host that runs out of memory or waits for good.
 * Streamed retrieves to disk (download.ts, `retrieve()`) have no size cap and no overall
 * deadline: a study of many gigabytes over a slow link legitimately takes hours, its
 * progress is shown and can be cancelled, and the idle timeout ends a server gone silent.
 * A server that trickles (a byte now and then, never silent long enough for the idle
 * timeout) is ended by a minimum rate instead, as curl's low-speed limit does.
 *
 * Measured on loopback (Node 24) with the default caps, an endless chunked body: a QIDO
 * ends TOO_LARGE after 1.6 s with the RSS up 309 MiB at its peak, a rendered image after
 * 6.4 s, up 1,090 MiB — the cap plus the chunks' overhead, never more.
 */
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { DicomWebError, redactUrl } from './errors';

/**
 * Cap on a JSON body (QIDO page, metadata, STOW answer, operation status): 256 MiB. A QIDO
 * page of 200 studies is a few hundred KB; the metadata of a 3,000-instance CT study is
 * about 100 MB, so the cap leaves 2.5× that. Above it the text would not fit a V8 string
 * anyway once decoded (V8's longest string is 2^29 − 24 characters, 512 MiB), and
 * JSON.parse of it would need several times its size in objects.
 */
export const DEFAULT_MAX_JSON_BODY_BYTES = 256 * 1024 * 1024;

/**
 * Cap on a binary body held in memory (rendered image, frames, bulk data): 1 GiB. The
 * largest single frames seen in practice are whole-slide tiles and uncompressed
 * mammograms (4096 × 5120 × 2 B = 40 MB); a request for many frames of a large
 * multi-frame object stays well under 1 GiB. Concatenating the chunks needs the cap once
 * more, so a crossing costs at most 2 GiB before it is refused; Node's Buffer itself
 * cannot exceed 4 GiB (buffer.constants.MAX_LENGTH on 64-bit).
 */
export const DEFAULT_MAX_BINARY_BODY_BYTES = 1024 * 1024 * 1024;

/**
 * Overall deadline of one in-memory read, from the first attempt to the last body byte,
 * retries and backoff included: 10 minutes. The idle timeouts (http.ts: 60 s for headers,
 * 120 s between body chunks) never end a body that trickles one byte a minute. Node's own
 * HTTP server bounds a whole request at 300 s (server.requestTimeout); a client reading
 * 100 MB of study metadata from a slow server can need more, hence twice that. 0 turns it off.
 */
export const DEFAULT_DEADLINE_MS = 10 * 60 * 1000;

/**
 * A streamed body must bring at least `bytes` per `windowMs` of waiting for it (time the
 * reader spends waiting on its own disk does not count), else it ends with TIMEOUT.
 */
export interface MinimumRate {
  bytes: number;
  windowMs: number;
}

/**
 * Default minimum rate of a streamed retrieve: 16 KiB per 120 s of waiting (136 B/s), the
 * window of the idle timeout. curl's CURLOPT_LOW_SPEED_LIMIT/TIME is the precedent (off by
 * default there; the user sets e.g. `--speed-limit 1000 --speed-time 30`). Any real link
 * (a 56 kbit/s modem moves 7 KB/s) and any server pausing between instances (a nearline
 * archive) clears it with ease; a body trickling a byte every 2 s (60 B per window) does not.
 */
export const DEFAULT_MINIMUM_RATE: MinimumRate = { bytes: 16 * 1024, windowMs: 120_000 };

/**
 * Counts what a streamed body brings against the time spent waiting for it; `check`
 * throws TIMEOUT at the end of a window that brought less than the minimum.
 */
export class RateWatch {
  private windowBytes = 0;
  private windowWaitMs = 0;

  constructor(
    private readonly rate: MinimumRate,
    private readonly method: string,
    private readonly url: string,
  ) {}

  /** `bytes` arrived after `waitedMs` of waiting for them. */
  check(bytes: number, waitedMs: number): void {
    this.windowBytes += bytes;
    this.windowWaitMs += waitedMs;
    if (this.windowWaitMs < this.rate.windowMs) return;
    if (this.windowBytes < this.rate.bytes) {
      throw new DicomWebError(
        'TIMEOUT',
        `${this.method} ${redactUrl(this.url)} is too slow: ${this.windowBytes} bytes in ${Math.round(this.windowWaitMs / 1000)} s, under the client's minimum of ${this.rate.bytes} bytes per ${Math.round(this.rate.windowMs / 1000)} s`,
        { method: this.method, url: this.url },
      );
    }
    this.windowBytes = 0;
    this.windowWaitMs = 0;
  }
}

/**
 * The body with a {@link RateWatch} on it: only the waits for the next chunk are timed,
 * from the moment the reader asks for more (`_read`) to the chunk's arrival; time the
 * reader spends elsewhere (its disk) is not the server's.
 *
 * A Transform, not an async generator behind Readable.from: that one cost a promise hop
 * per chunk and capped a body at about 2 GB/s on its own, which took about a third off
 * the retrieve through undici (client bench, `client/undici` and `drain only`).
 */
class RateWatchedBody extends Transform {
  private asked = performance.now();

  constructor(private readonly watch: RateWatch) {
    super();
  }

  override _read(size: number): void {
    this.asked = performance.now();
    super._read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.watch.check(chunk.length, Math.max(0, performance.now() - this.asked));
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, chunk);
  }
}

export function rateWatchedBody(
  source: Readable,
  rate: MinimumRate,
  method: string,
  url: string,
): Readable {
  const body = new RateWatchedBody(new RateWatch(rate, method, url));
  // Either side failing or closing early ends both (the socket is released).
  pipeline(source, body, () => undefined);
  return body;
}

/** The size caps a client applies to bodies it reads into memory (bytes). */
export interface BodySizeLimits {
  /**
   * JSON answers: QIDO, metadata, STOW responses, operation status (default {@link
   * DEFAULT_MAX_JSON_BODY_BYTES}).
   */
  json?: number;
  /** Rendered images, frames and bulk data (default {@link DEFAULT_MAX_BINARY_BODY_BYTES}). */
  binary?: number;
}

export function tooLarge(method: string, url: string, limit: number, what: string): DicomWebError {
  return new DicomWebError(
    'TOO_LARGE',
    `${method} ${redactUrl(url)}: the answer ${what} over the client's limit of ${limit} bytes`,
    { method, url },
  );
}

/**
 * The declared Content-Length (RFC 9112 §6.3) when it is over `limit`, checked before a
 * byte of the body is read; a malformed length is left to the HTTP parser.
 */
export function declaredLengthOver(
  headers: Record<string, string>,
  limit: number,
): number | undefined {
  const value = headers['content-length'];
  if (value === undefined || !/^\d{1,20}$/.test(value.trim())) return undefined;
  const length = Number(value.trim());
  return length > limit ? length : undefined;
}

/**
 * The body, counted: fails with TOO_LARGE the moment more than `limit` bytes arrived (the
 * source is destroyed then, so nothing more is read), and calls `onEnd` once however it
 * ends (the deadline timer is cleared there).
 */
export function countedBody(
  source: Readable,
  limit: number,
  method: string,
  url: string,
  onEnd: () => void,
): Readable {
  async function* counted(): AsyncGenerator<Buffer> {
    let total = 0;
    try {
      for await (const chunk of source) {
        const buffer = chunk as Buffer;
        total += buffer.length;
        if (total > limit) throw tooLarge(method, url, limit, 'is');
        yield buffer;
      }
    } finally {
      onEnd();
      if (!source.destroyed) source.destroy();
    }
  }
  const body = Readable.from(counted(), { objectMode: false });
  // A body that is dropped unread still releases its connection and timer.
  body.once('close', () => {
    if (!source.destroyed) source.destroy();
    onEnd();
  });
  return body;
}

/**
 * One operation's overall deadline: an AbortSignal that fires with a TIMEOUT error as its
 * reason (undici destroys the request or the body with that reason), linked to the
 * caller's own signal. `clear()` once the operation is over.
 */
export class Deadline {
  readonly signal: AbortSignal | undefined;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unlink: (() => void) | undefined;
  expired = false;

  constructor(
    ms: number | undefined,
    method: string,
    url: string,
    callerSignal: AbortSignal | undefined,
  ) {
    if (!ms || ms <= 0) {
      this.signal = callerSignal;
      return;
    }
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(this.error(ms, method, url));
    }, ms);
    // A request in flight holds the event loop through its socket; the timer must not.
    this.timer.unref();
    if (callerSignal) {
      const forward = (): void => this.controller.abort(callerSignal.reason);
      if (callerSignal.aborted) forward();
      else {
        callerSignal.addEventListener('abort', forward, { once: true });
        this.unlink = () => callerSignal.removeEventListener('abort', forward);
      }
    }
  }

  /** The TIMEOUT error this deadline ends an operation with. */
  error(ms: number, method: string, url: string): DicomWebError {
    return new DicomWebError(
      'TIMEOUT',
      `${method} ${redactUrl(url)} did not complete within the client's deadline of ${Math.round(ms / 1000)} s`,
      { method, url },
    );
  }

  /** The TIMEOUT error when the deadline fired (the abort reason), else undefined. */
  get reason(): DicomWebError | undefined {
    return this.expired ? (this.controller.signal.reason as DicomWebError) : undefined;
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unlink?.();
    this.unlink = undefined;
  }
}
