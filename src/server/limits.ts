/**
 * Limits of the local server: how long a client may take to send a request, how large a
 * request may be, how many connections and frames it may hold. Every limit is a named
 * default with its reason and precedent, and can be changed through LocalServerOptions.
 *
 * Without them one page or script could hold the server with a few hundred slow
 * connections (slowloris), bodies that never arrive, or a frame list that copies one frame
 * a thousand times into memory (issue 10, finding 5).
 *
 * Plain Node: no `vscode` import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Whole request header block, from the first byte of a request to its blank line. Apache's
 * mod_reqtimeout default is `header=20-40`; nginx's client_header_timeout and Node's
 * headersTimeout are 60 s. A local client sends its headers in one packet: 20 s is plenty.
 */
export const HEADERS_TIMEOUT_MS = 20_000;

/**
 * A request body must not stall: no byte for this long ends the request (408, connection
 * closed). nginx's client_body_timeout ("between two successive read operations") is 60 s;
 * over loopback a client that sends nothing for 30 s is gone or hostile. It also ends a body
 * shorter than its Content-Length (RFC 9112 §6.3: the server would otherwise wait for ever).
 */
export const BODY_IDLE_TIMEOUT_MS = 30_000;

/**
 * A request body must keep a minimum average rate: after a grace of BODY_GRACE_MS it may
 * take one more second for every BODY_MIN_BYTES_PER_SECOND bytes it has sent. These are
 * Apache mod_reqtimeout's defaults (`body=20,MinRate=500`): a body trickled at 1 byte/s is
 * cut after about 20 s, while a 2 GiB upload at any real speed is never touched.
 */
export const BODY_GRACE_MS = 20_000;
/** See {@link BODY_GRACE_MS}: Apache mod_reqtimeout's `MinRate=500`. */
export const BODY_MIN_BYTES_PER_SECOND = 500;

/**
 * An idle keep-alive connection (between requests) is closed after this. Node's default
 * keepAliveTimeout is 5 s; nginx's keepalive_timeout 75 s. Our own client re-opens at once.
 * (Node 24 adds its keepAliveTimeoutBuffer, 1 s, before it closes the socket.)
 */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Any connection on which nothing moves (no byte read or written) for this long is closed:
 * a connection opened and never used, or a reader that stopped reading an answer. nginx's
 * send_timeout and client_body_timeout are 60 s.
 */
export const SOCKET_IDLE_TIMEOUT_MS = 60_000;

/**
 * Connections open at once; more are refused at accept. A browser opens at most 6 per host,
 * our client's pool a few dozen; 256 leaves room for load tests while bounding sockets and
 * their buffers (nginx's default worker_connections is 512).
 */
export const MAX_CONNECTIONS = 256;

/**
 * Largest STOW-RS body. Orthanc's DICOMweb plugin refuses STOW of more than 4 GB (2021), the
 * Azure DICOM service stores files up to 2 GB: a 4 GiB request carries any single instance
 * the Azure service accepts, twice over. Checked from Content-Length before reading (413,
 * RFC 9110 §15.5.14) and counted for chunked bodies.
 */
export const MAX_STOW_BODY_BYTES = 4 * 1024 ** 3;

/**
 * Largest body of any other request (QIDO, WADO, DELETE take none). 64 KiB, the order of a
 * header block (Node's maxHeaderSize is 16 KiB): enough for a client that sends a small
 * body by habit, far too small to be worth reading.
 */
export const MAX_OTHER_BODY_BYTES = 64 * 1024;

/**
 * Entries of a frame list (`frames/1,2,3`, PS3.18 §10.4.1.1.3), counted before duplicates
 * are removed. Viewers ask a frame or a handful at a time; 2048 covers a whole cine loop of a
 * large multi-frame in one request. Longer lists are 400.
 */
export const MAX_FRAME_LIST_LENGTH = 2048;

/**
 * Largest stored instance converted to Explicit VR Little Endian for a retrieve that names no
 * transfer syntax (wado.ts): the conversion holds the file and its converted copy in memory,
 * one instance at a time, and runs on the event loop (about 330 MB/s measured, so 0.3 s at
 * the limit). 100 MiB is the Azure DICOM service's own limit of transcoding
 * (RetrieveConfiguration.MaxDicomFileSize, answered 406); a larger instance stored Implicit VR
 * or Big Endian answers 406 with how to ask for it as stored.
 */
export const MAX_TRANSCODE_BYTES = 100 * 1024 ** 2;

/**
 * How long a connection closed after a refusal (413) keeps reading and dropping what the
 * client still sends, after our FIN, before it is torn down. Closing at once while bytes
 * are still arriving makes the kernel answer them with a reset, and a reset can destroy
 * the 413 the client has not read yet (RFC 9112 §9.6, "lingering close"). Apache lingers
 * 2 s; nginx up to 5 s a read (lingering_timeout).
 */
export const LINGER_MS = 2_000;

/**
 * Most data partitions one local server keeps, Microsoft.Default included (partitions.ts).
 * The service documents no limit; here each partition opened is an index in memory and, on
 * Linux, one inotify watcher per folder, and the extension lists them all at one level of its
 * tree. 128 is far above what a developer emulates (a handful of sites or tenants) and keeps
 * both bounded.
 */
export const MAX_PARTITIONS = 128;

/** The limits in force; every field has the default above. */
export interface ServerLimits {
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  bodyGraceMs: number;
  bodyMinBytesPerSecond: number;
  keepAliveTimeoutMs: number;
  socketIdleTimeoutMs: number;
  maxConnections: number;
  maxStowBodyBytes: number;
  maxOtherBodyBytes: number;
  maxFrameListLength: number;
  maxTranscodeBytes: number;
  lingerMs: number;
  /** Data partitions one server keeps, Microsoft.Default included (partitions.ts). */
  maxPartitions: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  bodyIdleTimeoutMs: BODY_IDLE_TIMEOUT_MS,
  bodyGraceMs: BODY_GRACE_MS,
  bodyMinBytesPerSecond: BODY_MIN_BYTES_PER_SECOND,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  socketIdleTimeoutMs: SOCKET_IDLE_TIMEOUT_MS,
  maxConnections: MAX_CONNECTIONS,
  maxStowBodyBytes: MAX_STOW_BODY_BYTES,
  maxOtherBodyBytes: MAX_OTHER_BODY_BYTES,
  maxFrameListLength: MAX_FRAME_LIST_LENGTH,
  maxTranscodeBytes: MAX_TRANSCODE_BYTES,
  lingerMs: LINGER_MS,
  maxPartitions: MAX_PARTITIONS,
});

/** The defaults with the given fields replaced (undefined fields keep their default). */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(given) as Array<
    [keyof ServerLimits, number | undefined]
  >) {
    if (value === undefined) continue;
    if (!(typeof value === 'number' && value >= 0))
      throw new Error(`limit ${key} must be a number >= 0`);
    limits[key] = value;
  }
  return limits;
}

/** How often request bodies are checked against the time limits. */
export function checkIntervalMs(limits: ServerLimits): number {
  return Math.max(
    10,
    Math.min(
      1000,
      limits.bodyIdleTimeoutMs / 4,
      limits.bodyGraceMs / 4,
      limits.headersTimeoutMs / 4,
    ),
  );
}

/**
 * Watches a request's body until it is complete: ends it with 408 Request Timeout (RFC 9110
 * §15.5.9, connection closed) when the client sends nothing for bodyIdleTimeoutMs or falls
 * below bodyMinBytesPerSecond after bodyGraceMs. Time during which the server itself is not
 * reading (its buffer full, the socket paused) does not count against the client.
 *
 * Progress is measured on the socket (bytesRead), so the handlers read `req` as before.
 */
export function watchBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: ServerLimits,
  onCut: (why: string) => void,
): void {
  if (req.complete) return;
  const socket = req.socket;
  const tick = checkIntervalMs(limits);
  let lastBytes = socket.bytesRead;
  let received = 0;
  let clientMs = 0;
  let idleMs = 0;
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return stop();
    const bytes = socket.bytesRead;
    const delta = bytes - lastBytes;
    lastBytes = bytes;
    if (delta > 0) {
      received += delta;
      idleMs = 0;
    } else if (req.readableLength > 0 || socket.isPaused()) {
      // Our handler is behind (bytes wait in the request's buffer, the socket is paused): not the
      // client's fault.
      return;
    } else {
      idleMs += tick;
    }
    clientMs += tick;
    const allowedMs =
      limits.bodyGraceMs + (received / Math.max(1, limits.bodyMinBytesPerSecond)) * 1000;
    if (idleMs >= limits.bodyIdleTimeoutMs)
      cut(`no byte of the request body for ${limits.bodyIdleTimeoutMs} ms`);
    else if (clientMs > allowedMs)
      cut(`the request body came slower than ${limits.bodyMinBytesPerSecond} bytes/s`);
  }, tick);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  function cut(why: string): void {
    stop();
    onCut(why);
    if (!res.headersSent) {
      const body = JSON.stringify({ status: 408, error: 'Request Timeout', message: why });
      res.writeHead(408, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      res.end(body, () => socket.destroy());
      // The answer may never drain to a client that does not read: close regardless.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  }
}

/**
 * Yields a request body's chunks and fails with 413 Content Too Large (RFC 9110 §15.5.14)
 * as soon as more than `maxBytes` arrived: the count that matters for a chunked body, whose
 * size nobody declared.
 */
export async function* limitedBody(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    yield chunk;
  }
}
