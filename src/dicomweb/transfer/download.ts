/**
 * WADO-RS retrieve streamed to disk: each multipart part goes to its own file as it
 * arrives (never the whole study in memory), then is named by its SOPInstanceUID read
 * from the file's header. A study of many gigabytes passes with memory bounded by a chunk.
 *
 * Two readers, one result. The answer is read straight from the socket (http or https)
 * into one reused buffer and parsed and written synchronously as each read lands
 * (socketGet.ts, {@link MultipartPushParser}): no buffer per read, so nothing piles up for
 * the garbage collector. Everything else (a proxy dispatcher, a failed connection, an
 * answer that is not a 200 multipart) goes through undici and the streaming parser, as
 * every other request does.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writev, writevSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readInstanceIdentity } from '../../dicom/part10';
import type { DicomWebSession as DicomWebClient } from '../session';
import { DicomWebError } from '../transport/errors';
import {
  MultipartError,
  MultipartPushParser,
  parseContentType,
  transferSyntaxFromType,
} from '../../mime/multipart';
import { assertUid, retrieveRequest, type InstancePath, type RetrieveOptions } from '../requests';
import type { SocketBodySink, SocketGetHead } from '../transport/socketGet';

export interface DownloadOptions extends RetrieveOptions {
  signal?: AbortSignal;
  /** After each file: how many so far and bytes written. */
  onProgress?: (progress: { files: number; bytes: number }) => void;
  /** `flat` (default): `{SOPInstanceUID}.dcm`; `tree`: `{study}/{series}/{SOPInstanceUID}.dcm`. */
  layout?: 'flat' | 'tree';
  /**
   * `false`: every batch is queued for the thread pool and written while reading goes on.
   * Default: written synchronously while each write takes under {@link SLOW_SYNC_WRITE_MS},
   * queued from the first slower one on (see {@link WriteModeState}).
   */
  syncWrites?: boolean;
  /** Overrides {@link SLOW_SYNC_WRITE_MS} (tests). */
  slowWriteMs?: number;
  /**
   * `false`: always read through undici, never straight from the socket (tests, and a
   * way out should a server's answers trip the socket reader).
   */
  socketRead?: boolean;
}

export interface DownloadedFile {
  path: string;
  bytes: number;
  mediaType: string;
  transferSyntaxUid?: string;
  sopInstanceUid?: string;
}

export interface DownloadResult {
  files: DownloadedFile[];
  bytes: number;
  /** How many batches were written synchronously and through the thread pool (see writePart). */
  writes: { sync: number; async: number };
  /**
   * Which reader carried the answer: straight from the socket, or undici (see the top of this
   * file).
   */
  reader: 'socket' | 'undici';
}

export async function retrieveToDirectory(
  client: DicomWebClient,
  target: InstancePath,
  directory: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  await mkdir(directory, { recursive: true });
  const files = new DownloadedFiles(target, directory, options);
  const writeMode: WriteModeState = {
    mode: options.syncWrites === false ? 'async' : 'sync',
    slowWriteMs: options.slowWriteMs ?? SLOW_SYNC_WRITE_MS,
    sync: 0,
    async: 0,
  };
  if (
    options.socketRead !== false &&
    (await retrieveFromSocket(client, target, files, writeMode, options))
  ) {
    return {
      files: files.list,
      bytes: files.total,
      writes: { sync: writeMode.sync, async: writeMode.async },
      reader: 'socket',
    };
  }
  let index = 0;
  for await (const part of client.retrieve(target, options)) {
    index++;
    const temporary = files.temporaryName(index);
    let bytes: number;
    try {
      bytes = await writePart(part.body, temporary, writeMode, options.signal);
    } catch (error) {
      await rm(temporary, { force: true });
      throw files.failure(error);
    }
    await files.add(temporary, index, bytes, part.mediaType, part.transferSyntaxUid);
  }
  return {
    files: files.list,
    bytes: files.total,
    writes: { sync: writeMode.sync, async: writeMode.async },
    reader: 'undici',
  };
}

/** The files of one download: temporary names, then each part named and reported in order. */
class DownloadedFiles {
  readonly list: DownloadedFile[] = [];
  total = 0;
  /** Unique per download: two downloads into one folder at once must not share a temporary. */
  private readonly prefix = `.part-${process.pid}-${randomBytes(6).toString('hex')}`;

  constructor(
    private readonly target: InstancePath,
    private readonly directory: string,
    private readonly options: DownloadOptions,
  ) {}

  temporaryName(index: number): string {
    return join(this.directory, `${this.prefix}-${index}.tmp`);
  }

  /**
   * The error to throw for a failed part: the parser rejects with a bare AbortError, callers expect
   * the typed one.
   */
  failure(error: unknown): unknown {
    if (this.options.signal?.aborted && !(error instanceof DicomWebError)) {
      return new DicomWebError(
        'CANCELLED',
        `download of ${this.target.studyInstanceUid} was cancelled`,
        { cause: error },
      );
    }
    return error;
  }

  /** Names a written part by the instance in it and reports progress. */
  async add(
    temporary: string,
    index: number,
    bytes: number,
    mediaType: string,
    partSyntax: string | undefined,
  ): Promise<void> {
    let sopInstanceUid: string | undefined;
    let transferSyntaxUid = partSyntax;
    let folder = this.directory;
    try {
      // The UIDs sit in the first kilobytes; the reader grows the prefix if they do not.
      // A smaller first read than its 64 KiB default leaves less for the collector per file.
      const identity = await readInstanceIdentity(temporary, { initialBytes: IDENTITY_FIRST_READ });
      // UIDs become file names: only digits, letters, '.' and '-' may pass (no '../').
      assertUid(identity.sopInstanceUid, 'SOPInstanceUID');
      assertUid(identity.studyInstanceUid, 'StudyInstanceUID');
      assertUid(identity.seriesInstanceUid, 'SeriesInstanceUID');
      sopInstanceUid = identity.sopInstanceUid;
      // PS3.18 §8.7.8.2: the file's own (0002,0010) wins over what the part says (or omits).
      transferSyntaxUid = identity.transferSyntaxUid || transferSyntaxUid;
      if (this.options.layout === 'tree') {
        folder = join(this.directory, identity.studyInstanceUid, identity.seriesInstanceUid);
        await mkdir(folder, { recursive: true });
      }
    } catch {
      // Not a Part 10 file (a server's bulk part?): kept under a numbered name, below.
      sopInstanceUid = undefined;
      folder = this.directory;
    }
    // An instance downloaded again replaces its own earlier copy; a numbered part never
    // replaces another download's part of the same number.
    const path = sopInstanceUid
      ? join(folder, `${sopInstanceUid}.dcm`)
      : await freeName(folder, `part-${index}`, '.bin');
    await rename(temporary, path);
    this.list.push({ path, bytes, mediaType, transferSyntaxUid, sopInstanceUid });
    this.total += bytes;
    this.options.onProgress?.({ files: this.list.length, bytes: this.total });
  }
}

/**
 * The retrieve read straight from the socket (see the top of this file). Resolves false,
 * having written nothing, when that reader declines the request: the caller then uses
 * undici. Parts are written as the reads land ({@link SocketPartWriter}) and named while
 * the next part streams ({@link PartNaming}).
 */
async function retrieveFromSocket(
  client: DicomWebClient,
  target: InstancePath,
  files: DownloadedFiles,
  writeMode: WriteModeState,
  options: DownloadOptions,
): Promise<boolean> {
  const spec = retrieveRequest(target, options);
  const url = client.urlOf(spec);
  const naming = new PartNaming(files, target, options.signal);
  let writer: SocketPartWriter | undefined;
  let resume = (): void => undefined;
  try {
    const outcome = await client.transport.getFromSocket(
      { url, headers: spec.headers, signal: options.signal },
      (head) => {
        const accepted = acceptAnswer(head, files, naming, writeMode, options.signal, () =>
          resume(),
        );
        writer = accepted?.writer;
        return accepted?.sink;
      },
      (call) => {
        resume = call.resume;
      },
    );
    if (outcome.kind === 'declined') return false;
    await naming.settled();
    return true;
  } catch (error) {
    await writer?.abandon();
    await naming.idle();
    if (error instanceof MultipartError) {
      throw new DicomWebError('MALFORMED_RESPONSE', `GET ${url}: ${error.message}`, {
        method: 'GET',
        url,
        status: 200,
        cause: error,
      });
    }
    throw files.failure(error);
  }
}

/** A part whose file is being written: where, and what its headers said. */
interface PendingPart {
  temporary: string;
  index: number;
  mediaType: string;
  transferSyntaxUid?: string;
}

/**
 * The body sink for a 200 multipart answer, or `undefined` to decline anything else
 * (errors, redirects, a missing or odd Content-Type: undici's path reports them). Each
 * part streams into a {@link SocketPartWriter} and is handed to `naming` once written.
 */
function acceptAnswer(
  head: SocketGetHead,
  files: DownloadedFiles,
  naming: PartNaming,
  writeMode: WriteModeState,
  signal: AbortSignal | undefined,
  resume: () => void,
): { sink: SocketBodySink; writer: SocketPartWriter } | undefined {
  if (head.status !== 200) return undefined;
  const contentType = head.headers['content-type'];
  if (!contentType) return undefined;
  const outer = parseContentType(contentType);
  const boundary = outer.params['boundary'];
  if (!outer.mediaType.startsWith('multipart/') || !boundary) return undefined;
  const outerSyntax = transferSyntaxFromType(outer.params);
  const writer = new SocketPartWriter(writeMode, resume);
  let current: PendingPart | undefined;
  const parser = new MultipartPushParser(boundary, {
    onPart: (headers, index) => {
      if (naming.failed !== undefined) throw naming.failed;
      if (signal?.aborted) throw new DicomWebError('CANCELLED', 'the download was cancelled');
      const partType = headers['content-type']
        ? parseContentType(headers['content-type'])
        : undefined;
      current = {
        temporary: files.temporaryName(index + 1),
        index: index + 1,
        mediaType: partType?.mediaType ?? outer.params['type'] ?? 'application/octet-stream',
        // §8.7.8.2: a part's own transfer-syntax wins over the one of the whole answer.
        transferSyntaxUid: partType?.params['transfer-syntax'] ?? outerSyntax,
      };
      writer.open(current.temporary);
    },
    onData: (data) => writer.write(data),
    onPartEnd: () => {
      naming.add(current!, writer.close());
      current = undefined;
    },
  });
  return {
    writer,
    sink: {
      data: (view) => {
        parser.write(view);
        return writer.wantsMore();
      },
      end: () => parser.end(),
    },
  };
}

/**
 * Names the parts of a socket-read answer in order, each once its file is closed, while
 * the next part streams. After a failure or a cancel the parts still waiting are removed,
 * as the undici path never writes them.
 */
class PartNaming {
  /** The first failure (a write, a rename, a cancel): stops the download. */
  failed: unknown;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly files: DownloadedFiles,
    private readonly target: InstancePath,
    private readonly signal: AbortSignal | undefined,
  ) {}

  add(part: PendingPart, closed: Promise<number>): void {
    // Handled below, in order; never an unhandled rejection meanwhile.
    closed.catch(() => undefined);
    this.chain = this.chain.then(async () => {
      try {
        const bytes = await closed;
        if (this.failed === undefined && this.signal?.aborted)
          this.failed = new DicomWebError(
            'CANCELLED',
            `download of ${this.target.studyInstanceUid} was cancelled`,
          );
        if (this.failed !== undefined) {
          await rm(part.temporary, { force: true });
          return;
        }
        await this.files.add(
          part.temporary,
          part.index,
          bytes,
          part.mediaType,
          part.transferSyntaxUid,
        );
      } catch (error) {
        this.failed ??= error;
        await rm(part.temporary, { force: true });
      }
    });
  }

  /** Every part named; throws the first failure. */
  async settled(): Promise<void> {
    await this.chain;
    if (this.failed !== undefined) throw this.failed;
  }

  /** Every part named or removed (after a failure elsewhere). */
  idle(): Promise<void> {
    return this.chain;
  }
}

/** `{base}{ext}`, or `{base}-2{ext}`, `{base}-3{ext}` … : the first name not taken in `folder`. */
async function freeName(folder: string, base: string, ext: string): Promise<string> {
  for (let n = 1; ; n++) {
    const path = join(folder, n === 1 ? `${base}${ext}` : `${base}-${n}${ext}`);
    try {
      // 'wx' creates the name or fails if it exists: the claim is atomic; rename then fills it.
      await (await open(path, 'wx')).close();
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** First read when naming a downloaded file by its instance (see DownloadedFiles.add). */
const IDENTITY_FIRST_READ = 16 * 1024;

/**
 * Network chunks (64 KiB at most) gathered for one `writev`. 256 KiB measured best on the
 * 1 GB study of bench/ (1 MiB batches leave the chunks cold in the CPU cache by the time
 * they are copied; a write per chunk spends more on system calls).
 */
const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * Batches a download may hold while they wait for the disk: reading goes on while up to
 * this many are queued, and pauses (TCP backpressure to the server) only when all are.
 * 16 × 256 KiB = 4 MiB at most, whatever the size of the study or the speed of the disk.
 */
export const WRITE_QUEUE_BATCHES = 16;

/**
 * A synchronous write slower than this switches the download to queued writes. Writing
 * into the page cache takes well under a millisecond per batch; a slow disk, a network
 * drive or the kernel throttling dirty pages can take far longer, and then reading must go
 * on meanwhile (the server would stall) and a download running in the extension host must
 * not hold its event loop.
 */
export const SLOW_SYNC_WRITE_MS = 15;

/** How one download writes its files (see writePart and SocketPartWriter). */
interface WriteModeState {
  /**
   * `sync` (the default) while writes are fast: each batch written on the reading thread.
   * A write to the page cache costs less there than the round trip to the thread pool and
   * back, and the socket's receive buffer holds what arrives meanwhile: on the 2-core
   * machine of bench/, queued writes to the page cache ran 15–20 % slower (461–662 against
   * 538–802 MB/s, three alternating pairs, a local server), three threads sharing two
   * cores. From the first write slower than the threshold on, `async` for good: batches
   * queued and written through the thread pool while reading goes on (the disk, not the
   * CPU, is the limit then). `syncWrites: false` starts in `async`.
   */
  mode: 'sync' | 'async';
  /** Milliseconds above which a synchronous write is "slow" (tests lower it). */
  slowWriteMs: number;
  /** Batches written each way so far. */
  sync: number;
  async: number;
}

/**
 * Writes a part body (undici's reader) to a new file and returns its length. Batches of
 * {@link WRITE_BATCH_BYTES} are written synchronously while that is fast (see
 * {@link WriteModeState}); then queued for the thread pool and written in order while the
 * body is read on, reading waiting only while {@link WRITE_QUEUE_BATCHES} are queued.
 */
async function writePart(
  body: AsyncIterable<Uint8Array>,
  path: string,
  state: WriteModeState,
  signal?: AbortSignal,
): Promise<number> {
  const fd = openSync(path, 'w');
  let bytes = 0;
  let writing: Promise<void> = Promise.resolve();
  let queued = 0;
  let failed: unknown;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let room: (() => void) | undefined;
  const flush = async (chunks: Uint8Array[]): Promise<void> => {
    if (state.mode === 'sync') {
      const started = performance.now();
      writeAllSync(fd, chunks);
      state.sync++;
      if (performance.now() - started > state.slowWriteMs) state.mode = 'async';
      return;
    }
    if (failed !== undefined) throw failed;
    if (queued >= WRITE_QUEUE_BATCHES) await new Promise<void>((resolve) => (room = resolve));
    if (failed !== undefined) throw failed;
    queued++;
    state.async++;
    // Chained: one write at a time, in order. A failure is kept and thrown at the next batch.
    writing = writing
      .then(() => (failed === undefined ? writeAll(fd, chunks) : undefined))
      .catch((error: unknown) => {
        failed ??= error;
      })
      .finally(() => {
        queued--;
        room?.();
        room = undefined;
      });
  };
  try {
    for await (const chunk of body) {
      if (signal?.aborted) throw new DicomWebError('CANCELLED', 'the download was cancelled');
      if (chunk.byteLength === 0) continue;
      bytes += chunk.byteLength;
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= WRITE_BATCH_BYTES) {
        const full = batch;
        batch = [];
        batchBytes = 0;
        await flush(full);
      }
    }
    if (batch.length) await flush(batch);
    await writing;
    if (failed !== undefined) throw failed;
  } finally {
    await writing;
    closeSync(fd);
  }
  return bytes;
}

/** The chunks (or their tails) that a `writev` of `written` bytes left unwritten. */
function rest(chunks: Uint8Array[], written: number): Uint8Array[] {
  let skip = written;
  let index = 0;
  while (index < chunks.length && skip >= chunks[index]!.byteLength)
    skip -= chunks[index++]!.byteLength;
  const left = chunks.slice(index);
  if (skip > 0) left[0] = left[0]!.subarray(skip);
  return left;
}

/** `writev` until every byte is written (a short write leaves the rest for another call). */
function writeAllSync(fd: number, chunks: Uint8Array[]): void {
  for (let left = chunks; left.length > 0;) left = rest(left, writevSync(fd, left));
}

async function writeAll(fd: number, chunks: Uint8Array[]): Promise<void> {
  for (let left = chunks; left.length > 0;) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, left, (error, count) => (error ? reject(error) : resolve(count))),
    );
    left = rest(left, written);
  }
}

/** A queued step of {@link SocketPartWriter}: a batch to write, or a part's file to close. */
type QueuedStep =
  | { kind: 'write'; fd: number; buffer: Buffer; length: number }
  | { kind: 'close'; fd: number; bytes: number; done: (error: unknown, bytes: number) => void };

/**
 * Writes the parts of a socket-read answer. Each view is copied into a batch buffer of
 * {@link WRITE_BATCH_BYTES}; a full batch is queued and written through the thread pool
 * while the socket is read on, and comes back to a pool of at most
 * {@link WRITE_QUEUE_BATCHES} buffers, reused (no garbage per write). Reading pauses only
 * when fewer than two buffers are free (one read may fill two), and resumes when one is
 * written. While writes are fast (see {@link WriteModeState}) a full batch is written
 * synchronously in the read callback instead, and its buffer reused at once.
 */
class SocketPartWriter {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private batch: Buffer | undefined;
  private fill = 0;
  private fd = -1;
  private temporary = '';
  private bytes = 0;
  private readonly queue: QueuedStep[] = [];
  private writing = false;
  private paused = false;
  private failed: unknown;
  private idle: Array<() => void> = [];

  constructor(
    private readonly state: WriteModeState,
    private readonly resume: () => void,
  ) {}

  open(temporary: string): void {
    this.temporary = temporary;
    this.fd = openSync(temporary, 'w');
    this.bytes = 0;
  }

  write(view: Buffer): void {
    if (this.failed !== undefined) throw this.failed;
    this.bytes += view.length;
    for (let offset = 0; offset < view.length;) {
      this.batch ??= this.take();
      const copied = view.copy(this.batch, this.fill, offset);
      this.fill += copied;
      offset += copied;
      if (this.fill === this.batch.length) this.flush();
    }
  }

  /** False when fewer than two batch buffers are free: the socket pauses until one is written. */
  wantsMore(): boolean {
    if (this.spare() >= 2) return true;
    this.paused = true;
    return false;
  }

  /** Ends the current part's file; resolves with its length once every byte is written. */
  close(): Promise<number> {
    this.flush();
    const fd = this.fd;
    const bytes = this.bytes;
    this.fd = -1;
    if (this.queue.length === 0 && !this.writing && this.failed === undefined) {
      closeSync(fd);
      return Promise.resolve(bytes);
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({
        kind: 'close',
        fd,
        bytes,
        done: (error, written) => (error === undefined ? resolve(written) : reject(error)),
      });
      this.pump();
    });
  }

  /**
   * After a failure: waits for the queued writes, then closes and removes the part being written.
   */
  async abandon(): Promise<void> {
    this.failed ??= new DicomWebError('CANCELLED', 'the download stopped');
    if (this.queue.length > 0 || this.writing)
      await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
      await rm(this.temporary, { force: true });
    }
  }

  /** Buffers that can still take a batch: free ones, and those not allocated yet. */
  private spare(): number {
    return this.free.length + WRITE_QUEUE_BATCHES - this.allocated;
  }

  private take(): Buffer {
    const buffer = this.free.pop();
    if (buffer) return buffer;
    this.allocated++;
    return Buffer.allocUnsafe(WRITE_BATCH_BYTES);
  }

  private flush(): void {
    if (this.fill === 0 || !this.batch) return;
    if (this.state.mode === 'sync') {
      const started = performance.now();
      writeAllSync(this.fd, [this.batch.subarray(0, this.fill)]);
      this.state.sync++;
      this.fill = 0;
      if (performance.now() - started > this.state.slowWriteMs) this.state.mode = 'async';
      return;
    }
    this.queue.push({ kind: 'write', fd: this.fd, buffer: this.batch, length: this.fill });
    this.state.async++;
    this.batch = undefined;
    this.fill = 0;
    this.pump();
  }

  /**
   * Runs the queue in order, one write in the thread pool at a time. A write takes every
   * batch of the same file queued by then (one `writev`): each write is a round trip to
   * the thread pool and back, and when the CPUs are busy those round trips, not the disk,
   * would set the pace; batches that pile up meanwhile go together in the next one.
   */
  private pump(): void {
    while (!this.writing) {
      const first = this.queue.shift();
      if (!first) {
        for (const waiter of this.idle.splice(0)) waiter();
        return;
      }
      if (first.kind === 'close') {
        closeSync(first.fd);
        first.done(this.failed, first.bytes);
        continue;
      }
      const steps = [first];
      for (let next = this.queue[0]; next?.kind === 'write' && next.fd === first.fd;) {
        steps.push(next);
        this.queue.shift();
        next = this.queue[0];
      }
      if (this.failed !== undefined) {
        for (const step of steps) this.release(step.buffer);
        continue;
      }
      this.writing = true;
      writeAll(
        first.fd,
        steps.map((step) => step.buffer.subarray(0, step.length)),
      ).then(
        () => this.written(steps),
        (error: unknown) => {
          this.failed ??= error;
          this.written(steps);
        },
      );
    }
  }

  private written(steps: Array<QueuedStep & { kind: 'write' }>): void {
    this.writing = false;
    for (const step of steps) this.release(step.buffer);
    this.pump();
  }

  /**
   * A written batch's buffer goes back to the pool; a paused socket reads again once two are free.
   */
  private release(buffer: Buffer): void {
    this.free.push(buffer);
    if (this.paused && this.spare() >= 2) {
      this.paused = false;
      this.resume();
    }
  }
}
