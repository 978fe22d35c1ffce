/**
 * One HTTP/1.1 GET whose response body is read straight from the socket into a single
 * buffer that is refilled for every read (net.connect's `onread`), for the one request
 * that moves gigabytes: the WADO-RS retrieve to disk (download.ts).
 *
 * Why not undici for this one: every socket read through a stream (undici, node:http)
 * arrives in a new 64 KiB buffer, and V8 frees those only at a collection it starts after
 * about 64 MiB of them pile up. A 1 GB retrieve then held 68–79 MiB of dead buffers and
 * ran at 0.76–0.80× curl (bench/: client.retrieve.*). Read into one buffer, nothing piles
 * up. Everything else — and this request whenever the answer is not a plain 200 — goes
 * through undici (http.ts), so retries, 401 refresh, redirects of errors and their messages
 * keep one implementation: the caller gets `declined` and sends the request there.
 *
 * Scope, deliberately small: `http:` and `https:` (TLS decrypts into the same buffer:
 * `onread` holds for tls.connect too), `GET`, HTTP/1.1 only (ALPN `http/1.1`), one request
 * per connection (`Connection: close`), identity or chunked transfer coding, Content-Length
 * or close-delimited bodies (RFC 9112 §6.3). The body handler runs synchronously in the
 * read callback and must copy or consume each view before it returns.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type SecureContext } from 'node:tls';
import { isToken } from '../../mime/contentType';
import { parseFieldLines } from '../../mime/partHeaders';
import { DicomWebError, redactUrl } from './errors';
import type { TlsOptions } from './tls';
import { RateWatch, type MinimumRate } from './limits';

/** The status line and header fields of an answer (names lower-cased, repeats joined by ", "). */
export interface SocketGetHead {
  status: number;
  headers: Record<string, string>;
}

/** Receives a body that {@link socketGet} accepted. */
export interface SocketBodySink {
  /**
   * Body bytes, in order. The view points into the read buffer, which is refilled after
   * this returns. Return `false` to stop reading until `resume()` of the same call.
   */
  data(view: Buffer): boolean | void;
  /** The body is complete (framing satisfied); called once, before the promise resolves. */
  end(): void;
}

export interface SocketGetOptions {
  /** Request header fields. Values with CR or LF are refused (the request is declined). */
  headers: Record<string, string>;
  signal?: AbortSignal;
  connectMs: number;
  headersMs: number;
  /** Longest silence between two reads of the body. */
  bodyMs: number;
  /** The slowest the body may arrive, counting only the time not paused by the sink (limits.ts). */
  minimumRate?: MinimumRate;
  /** Size of the one read buffer (default 64 KiB, what a stream would allocate per read). */
  readBufferBytes?: number;
  /** For `https:`: the same CA, client certificate and verification as the undici agent. */
  tls?: TlsOptions;
  /** A context made once from `tls` by the caller (http.ts): reused, not rebuilt per connection. */
  secureContext?: SecureContext;
  /**
   * Called with the answer's head: a sink reads the body; `undefined` declines it (the
   * connection is closed and the call resolves `declined`).
   */
  onHead(head: SocketGetHead): SocketBodySink | undefined;
}

export type SocketGetOutcome =
  /** The sink received the whole body. */
  | { kind: 'done'; head: SocketGetHead }
  /**
   * Nothing was delivered: no connection, no answer, an answer this reader does not
   * handle, or the caller's `onHead` declined it. `head` is there when an answer came.
   */
  | { kind: 'declined'; reason: string; head?: SocketGetHead };

export interface SocketGetCall {
  outcome: Promise<SocketGetOutcome>;
  /** Reads again after the sink returned false. */
  resume(): void;
}

/** Longest response head (status line and fields) accepted; undici's default is 16 KiB. */
const MAX_HEAD_BYTES = 64 * 1024;
/**
 * Interim (1xx) answers accepted before the final one (RFC 9110 §15.2 allows several): a
 * server sends one 100 Continue or a 103 Early Hints or two; an endless stream of them would
 * keep the request waiting with every idle timer re-armed. The 11th ends the request with
 * MALFORMED_RESPONSE. (undici, the other path, drops the connection on any 100 it did not
 * ask for and its headers timeout runs from the request, not from the last 1xx.)
 */
export const MAX_INTERIM_RESPONSES = 10;
/** Longest chunk-size line (with extensions) and trailer section of a chunked body. */
const MAX_CHUNK_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const HEADER_VALUE_SAFE = /^[^\r\n\0]*$/;

/** Whether {@link socketGet} can send a request to this URL at all. */
export function socketGetSupports(url: string): boolean {
  try {
    const protocol = new URL(url).protocol;
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Sends `GET url` on a new connection and hands the body to the sink `onHead` returns.
 * Rejects with a typed {@link DicomWebError} (NETWORK, TIMEOUT, CANCELLED,
 * MALFORMED_RESPONSE) once a body was accepted, or with what the sink threw.
 */
export function socketGet(url: string, path: string, options: SocketGetOptions): SocketGetCall {
  const call = new SocketGetRun(url, options);
  return {
    outcome: new Promise<SocketGetOutcome>((resolve, reject) => call.start(path, resolve, reject)),
    resume: () => call.resume(),
  };
}

/** The request head to send, or why this reader cannot send it (undici then does). */
function requestHead(
  target: URL,
  path: string,
  headers: Record<string, string>,
): { text: string } | { declined: string } {
  for (const [name, value] of Object.entries(headers)) {
    if (!isToken(name) || !HEADER_VALUE_SAFE.test(value))
      return { declined: `header ${JSON.stringify(name)} cannot be sent as is` };
  }
  const lines = [`GET ${path} HTTP/1.1`, `host: ${target.host}`];
  for (const [name, value] of Object.entries(headers))
    if (name.toLowerCase() !== 'host' && name.toLowerCase() !== 'connection')
      lines.push(`${name}: ${value}`);
  lines.push('connection: close', '', '');
  return { text: lines.join('\r\n') };
}

/**
 * The `onread` option of net.connect and tls.connect: reads land in `buffer`, refilled each time.
 */
interface OnRead {
  buffer: Buffer;
  callback: (nread: number, buf: Uint8Array) => boolean;
}

/** Opens the connection, plain or TLS, reading through `onread`. */
function openSocket(target: URL, options: SocketGetOptions, onread: OnRead): Socket {
  const secure = target.protocol === 'https:';
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const port = Number(target.port || (secure ? 443 : 80));
  if (!secure) return connect({ host, port, noDelay: true, onread });
  const tls = options.tls ?? {};
  return connectTls({
    host,
    port,
    // SNI names a host, never an address (RFC 6066 §3); the certificate is checked
    // against `host` either way, as undici does.
    servername: isIP(host) ? undefined : host,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.passphrase,
    secureContext: options.secureContext,
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
    ALPNProtocols: ['http/1.1'],
    // A documented tls.connect option ("See the onread option of net.Socket") that
    // @types/node leaves out of ConnectionOptions.
    onread,
  } as ConnectionOptions);
}

/** One {@link socketGet} call: its connection, its timers and how it settles. */
class SocketGetRun {
  private socket: Socket | undefined;
  /** The sink asked to stop reading: the silence is ours then, not the server's. */
  private pausedBySink = false;
  /** When the reader last asked for body bytes (a read returned, or the sink resumed). */
  private askedAt = 0;
  private settled = false;
  private readonly reader: ResponseReader;
  private readonly rate: RateWatch | undefined;
  private resolve: (outcome: SocketGetOutcome) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;
  private readonly onAbort = (): void => this.finish(cancelled(this.url));

  constructor(
    private readonly url: string,
    private readonly options: SocketGetOptions,
  ) {
    this.reader = new ResponseReader(url, options);
    this.rate = options.minimumRate ? new RateWatch(options.minimumRate, 'GET', url) : undefined;
  }

  start(
    path: string,
    resolve: (outcome: SocketGetOutcome) => void,
    reject: (error: Error) => void,
  ): void {
    this.resolve = resolve;
    this.reject = reject;
    const target = new URL(this.url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:')
      return resolve({ kind: 'declined', reason: `${target.protocol} is read through undici` });
    const head = requestHead(target, path, this.options.headers);
    if ('declined' in head) return resolve({ kind: 'declined', reason: head.declined });
    if (this.options.signal?.aborted) return reject(cancelled(this.url));
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
    const buffer = Buffer.allocUnsafe(this.options.readBufferBytes ?? 64 * 1024);
    const socket = openSocket(target, this.options, {
      buffer,
      callback: (nread, buf) => this.onRead(buf.subarray(0, nread) as Buffer),
    });
    this.socket = socket;
    socket.setTimeout(this.options.connectMs);
    const secure = target.protocol === 'https:';
    socket.on(secure ? 'secureConnect' : 'connect', () => this.onConnected(head.text));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (error) => this.onError(error));
    // With `onread` the stream itself holds nothing: 'end' is the peer's FIN.
    socket.on('end', () => {
      try {
        this.finish(this.reader.eof());
      } catch (error) {
        this.finish(error as Error);
      }
    });
    socket.on('close', () =>
      this.finish(
        this.reader.phase === 'head'
          ? { kind: 'declined', reason: 'the connection closed before an answer' }
          : new DicomWebError(
              'NETWORK',
              `GET ${redactUrl(this.url)} failed: the connection closed`,
              { method: 'GET', url: this.url },
            ),
      ),
    );
  }

  /** Reads again after the sink returned false. */
  resume(): void {
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      this.pausedBySink = false;
      this.askedAt = performance.now();
      socket.setTimeout(this.options.bodyMs);
      socket.resume();
    }
  }

  private finish(result: SocketGetOutcome | Error): void {
    if (this.settled) return;
    this.settled = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.socket?.destroy();
    if (result instanceof Error) this.reject(result);
    else this.resolve(result);
  }

  /** One read landed in the buffer: feed it on; `false` stops reading (paused or settled). */
  private onRead(view: Buffer): boolean {
    if (this.settled) return false;
    try {
      const wasHead = this.reader.phase === 'head';
      if (this.rate && !wasHead) {
        const now = performance.now();
        this.rate.check(view.length, now - this.askedAt);
        this.askedAt = now;
      }
      const step = this.reader.feed(view);
      if (step.outcome) {
        this.finish(step.outcome);
        return false;
      }
      // From the body on, the timeout is the longest silence (each read re-arms it).
      if (wasHead && this.reader.phase === 'body') {
        this.socket!.setTimeout(this.options.bodyMs);
        this.askedAt = performance.now();
      }
      this.pausedBySink = !step.more;
      return step.more;
    } catch (error) {
      this.finish(error as Error);
      return false;
    }
  }

  private onConnected(request: string): void {
    const socket = this.socket!;
    const { headersMs } = this.options;
    socket.setTimeout(headersMs);
    // The whole head within headersMs of the request, as undici's headersTimeout: the idle
    // timer alone is re-armed by every byte of a head that trickles.
    const headTimer = setTimeout(() => {
      if (this.reader.phase === 'head')
        this.finish({ kind: 'declined', reason: `no whole answer head within ${headersMs} ms` });
    }, headersMs);
    headTimer.unref();
    socket.once('close', () => clearTimeout(headTimer));
    socket.write(request);
  }

  private onTimeout(): void {
    if (this.pausedBySink) return; // re-armed by resume()
    const { connectMs, headersMs, bodyMs } = this.options;
    if (this.reader.phase === 'head')
      this.finish({
        kind: 'declined',
        reason: `no answer within ${this.socket!.connecting ? connectMs : headersMs} ms`,
      });
    else
      this.finish(
        new DicomWebError(
          'TIMEOUT',
          `GET ${redactUrl(this.url)} timed out: no data for ${bodyMs} ms`,
          { method: 'GET', url: this.url },
        ),
      );
  }

  private onError(error: Error): void {
    if (this.reader.phase === 'head') this.finish({ kind: 'declined', reason: error.message });
    else
      this.finish(
        new DicomWebError('NETWORK', `GET ${redactUrl(this.url)} failed: ${error.message}`, {
          method: 'GET',
          url: this.url,
          cause: error,
        }),
      );
  }
}

function cancelled(url: string): DicomWebError {
  return new DicomWebError('CANCELLED', `GET ${redactUrl(url)} was cancelled`, {
    method: 'GET',
    url,
  });
}

function malformed(url: string, what: string): DicomWebError {
  return new DicomWebError('MALFORMED_RESPONSE', `GET ${redactUrl(url)}: ${what}`, {
    method: 'GET',
    url,
  });
}

/** What a read left to do: read on (`more`), pause (`more: false`), or settle. */
interface FeedStep {
  more: boolean;
  outcome?: SocketGetOutcome;
}

type Framing = { type: 'length'; left: number } | { type: 'chunked' } | { type: 'close' };

/**
 * The response state machine (RFC 9112): head, then the body by its framing. Only the
 * head and a chunked body's size lines are copied; body bytes go to the sink as views.
 */
class ResponseReader {
  phase: 'head' | 'body' | 'done' = 'head';
  private head: Buffer[] = [];
  private headBytes = 0;
  private framing: Framing = { type: 'close' };
  private sink: SocketBodySink | undefined;
  private answer: SocketGetHead | undefined;
  // chunked (RFC 9112 §7.1)
  private chunkState: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size';
  private chunkLeft = 0;
  private line = '';
  private trailerBytes = 0;
  private crlfSeen = 0;
  private interim = 0;

  constructor(
    private readonly url: string,
    private readonly options: SocketGetOptions,
  ) {}

  feed(buf: Buffer): FeedStep {
    let rest = buf;
    if (this.phase === 'head') {
      const step = this.readHead(rest);
      if (step.outcome || !step.body) return { more: true, outcome: step.outcome };
      rest = step.body;
      if (rest.length === 0) return { more: true };
    }
    if (this.phase === 'done') return { more: false };
    return this.readBody(rest);
  }

  /** The peer closed its side: the end of a close-delimited body, else a cut-off answer. */
  eof(): SocketGetOutcome {
    if (this.phase === 'head')
      return { kind: 'declined', reason: 'the connection closed before a whole answer head' };
    if (this.phase === 'body' && this.framing.type === 'close') return this.complete();
    if (this.phase === 'done') return { kind: 'done', head: this.answer! };
    throw new DicomWebError(
      'NETWORK',
      `GET ${redactUrl(this.url)} failed: the connection closed before the end of the body`,
      { method: 'GET', url: this.url, status: this.answer?.status },
    );
  }

  private complete(): SocketGetOutcome {
    this.phase = 'done';
    this.sink!.end();
    return { kind: 'done', head: this.answer! };
  }

  private readHead(buf: Buffer): { outcome?: SocketGetOutcome; body?: Buffer } {
    // The head is small and usually in the first read: keep copies until CRLF CRLF.
    this.head.push(Buffer.from(buf));
    this.headBytes += buf.length;
    const all = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    const end = all.indexOf(CRLF_CRLF);
    if (end < 0) {
      if (this.headBytes > MAX_HEAD_BYTES)
        return {
          outcome: { kind: 'declined', reason: `an answer head over ${MAX_HEAD_BYTES} bytes` },
        };
      this.head = [all];
      return {};
    }
    const head = parseHead(all.toString('latin1', 0, end));
    const after = all.subarray(end + 4);
    if (!head)
      return { outcome: { kind: 'declined', reason: 'an answer head that is not HTTP/1.x' } };
    if (head.status >= 100 && head.status < 200) {
      // 1xx interim answers (RFC 9110 §15.2) precede the real one; a bounded number of them.
      if (++this.interim > MAX_INTERIM_RESPONSES)
        throw malformed(this.url, `more than ${MAX_INTERIM_RESPONSES} interim (1xx) answers`);
      this.head = [];
      this.headBytes = 0;
      return after.length ? this.readHead(after) : {};
    }
    this.answer = head;
    const framing = framingOf(head);
    if (typeof framing === 'string')
      return { outcome: { kind: 'declined', reason: framing, head } };
    const sink = this.options.onHead(head);
    if (!sink) return { outcome: { kind: 'declined', reason: `answered ${head.status}`, head } };
    this.sink = sink;
    this.framing = framing;
    this.phase = 'body';
    this.head = [];
    if (framing.type === 'length' && framing.left === 0) return { outcome: this.complete() };
    // `after` is a copy (this.head), so handing it on is safe.
    return { body: after };
  }

  private readBody(buf: Buffer): FeedStep {
    const framing = this.framing;
    if (framing.type === 'close') return { more: this.deliver(buf) };
    if (framing.type === 'length') {
      if (buf.length > framing.left)
        throw malformed(this.url, `more bytes than its Content-Length`);
      framing.left -= buf.length;
      const more = buf.length ? this.deliver(buf) : true;
      if (framing.left === 0) return { more: false, outcome: this.complete() };
      return { more };
    }
    return this.readChunked(buf);
  }

  private deliver(view: Buffer): boolean {
    return this.sink!.data(view) !== false;
  }

  private readChunked(buf: Buffer): FeedStep {
    let more = true;
    let pos = 0;
    while (pos < buf.length) {
      switch (this.chunkState) {
        case 'size': {
          const lf = buf.indexOf(0x0a, pos);
          const piece = buf.toString('latin1', pos, lf < 0 ? buf.length : lf + 1);
          this.line += piece;
          pos += piece.length;
          if (this.line.length > MAX_CHUNK_LINE)
            throw malformed(this.url, 'a chunk-size line too long');
          if (lf < 0) break;
          const match = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;[^\r\n]*)?\r\n$/.exec(this.line);
          if (!match)
            throw malformed(
              this.url,
              `a bad chunk-size line ${JSON.stringify(this.line.slice(0, 40))}`,
            );
          this.line = '';
          this.chunkLeft = parseInt(match[1]!, 16);
          this.chunkState = this.chunkLeft === 0 ? 'trailer' : 'data';
          this.crlfSeen = 0;
          break;
        }
        case 'data': {
          const take = Math.min(this.chunkLeft, buf.length - pos);
          if (!this.deliver(buf.subarray(pos, pos + take))) more = false;
          pos += take;
          this.chunkLeft -= take;
          if (this.chunkLeft === 0) this.chunkState = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (buf[pos] !== expected) throw malformed(this.url, 'a chunk not followed by CRLF');
          pos++;
          if (++this.crlfSeen === 2) {
            this.chunkState = 'size';
            this.crlfSeen = 0;
          }
          break;
        }
        case 'trailer': {
          // trailer-section CRLF: lines until an empty one (RFC 9112 §7.1.2); ignored.
          const lf = buf.indexOf(0x0a, pos);
          const piece = buf.toString('latin1', pos, lf < 0 ? buf.length : lf + 1);
          this.line += piece;
          pos += piece.length;
          this.trailerBytes += piece.length;
          if (this.trailerBytes > MAX_TRAILER_BYTES)
            throw malformed(this.url, 'a trailer section too long');
          if (lf < 0) break;
          const line = this.line;
          this.line = '';
          if (line === '\r\n' || line === '\n') return { more: false, outcome: this.complete() };
          break;
        }
      }
    }
    return { more };
  }
}

/** Parses `HTTP/1.x SSS reason` and the field lines; undefined when it is not that. */
function parseHead(text: string): SocketGetHead | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) return undefined;
  // RFC 9112 §5: token names, no folding; anything else is left to undici to judge.
  const fields = parseFieldLines(lines.slice(1), 'http');
  if (!fields.ok) return undefined;
  return { status: Number(status[1]), headers: fields.fields };
}

/** The body's framing (RFC 9112 §6.3), or why this reader leaves the answer to undici. */
function framingOf(head: SocketGetHead): Framing | string {
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = te
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter(Boolean);
    // Transfer-Encoding overrides Content-Length (§6.3 item 3); only plain chunked is read here.
    if (codings.length !== 1 || codings[0] !== 'chunked') return `transfer-encoding ${te}`;
    return { type: 'chunked' };
  }
  const encoding = head.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity')
    return `content-encoding ${encoding}`;
  const length = head.headers['content-length'];
  if (length !== undefined) {
    // Repeated identical values are one length (§6.3 item 5); anything else is refused.
    const values = new Set(length.split(',').map((v) => v.trim()));
    const [only] = [...values];
    if (values.size !== 1 || !/^\d{1,15}$/.test(only!)) return `content-length ${length}`;
    return { type: 'length', left: Number(only) };
  }
  return { type: 'close' };
}
