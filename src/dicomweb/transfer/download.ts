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
   * `false`: every file write goes through the thread pool. Default: synchronous writes
   * while each takes under {@link SLOW_SYNC_WRITE_MS} (see writePart).
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
  /** Which reader carried the answer: straight from the socket, or undici (see the top of this file). */
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

  /** The error to throw for a failed part: the parser rejects with a bare AbortError, callers expect the typed one. */
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
 * undici. Parts are written synchronously as the reads land ({@link SocketPartWriter}) and
 * named while the next part streams.
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
  let writer: SocketPartWriter | undefined;
  let naming: Promise<void> = Promise.resolve();
  let namingFailed: unknown;
  let resume = (): void => undefined;

  const accept = (head: SocketGetHead): SocketBodySink | undefined => {
    // Errors, redirects, a missing or odd Content-Type: undici's path reports them.
    if (head.status !== 200) return undefined;
    const contentType = head.headers['content-type'];
    if (!contentType) return undefined;
    const outer = parseContentType(contentType);
    const boundary = outer.params['boundary'];
    if (!outer.mediaType.startsWith('multipart/') || !boundary) return undefined;
    const outerSyntax = transferSyntaxFromType(outer.params);
    const partWriter = new SocketPartWriter(writeMode, () => resume());
    writer = partWriter;
    let current:
      | { temporary: string; index: number; mediaType: string; transferSyntaxUid?: string }
      | undefined;
    const parser = new MultipartPushParser(boundary, {
      onPart: (headers, index) => {
        if (namingFailed !== undefined) throw namingFailed;
        if (options.signal?.aborted)
          throw new DicomWebError('CANCELLED', 'the download was cancelled');
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
        partWriter.open(current.temporary);
      },
      onData: (data) => partWriter.write(data),
      onPartEnd: () => {
        const part = current!;
        current = undefined;
        const closed = partWriter.close();
        closed.catch(() => undefined); // handled below, in order; never an unhandled rejection meanwhile
        // In order, while the next part streams. After a failure or a cancel the parts
        // still waiting are removed, as the undici path never writes them.
        naming = naming.then(async () => {
          try {
            const bytes = await closed;
            if (namingFailed === undefined && options.signal?.aborted)
              namingFailed = new DicomWebError(
                'CANCELLED',
                `download of ${target.studyInstanceUid} was cancelled`,
              );
            if (namingFailed !== undefined) {
              await rm(part.temporary, { force: true });
              return;
            }
            await files.add(
              part.temporary,
              part.index,
              bytes,
              part.mediaType,
              part.transferSyntaxUid,
            );
          } catch (error) {
            namingFailed ??= error;
            await rm(part.temporary, { force: true });
          }
        });
      },
    });
    return {
      data: (view) => {
        parser.write(view);
        return partWriter.wantsMore();
      },
      end: () => parser.end(),
    };
  };

  try {
    const outcome = await client.transport.getFromSocket(
      { url, headers: spec.headers, signal: options.signal },
      accept,
      (call) => {
        resume = call.resume;
      },
    );
    if (outcome.kind === 'declined') return false;
    await naming;
    if (namingFailed !== undefined) throw namingFailed;
    return true;
  } catch (error) {
    await writer?.abandon();
    await naming;
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
 * A synchronous write slower than this switches the download to asynchronous writes.
 * Writing into the page cache takes well under a millisecond per batch; a slow disk, a
 * network drive or the kernel throttling dirty pages can take far longer, and a download
 * running in the extension host must not hold its event loop for that.
 */
export const SLOW_SYNC_WRITE_MS = 15;

/** How one download writes its files (see writePart). */
interface WriteModeState {
  /** `sync` until one synchronous write took longer than the threshold; then `async` for good. */
  mode: 'sync' | 'async';
  /** Milliseconds above which a synchronous write is "slow" (tests lower it). */
  slowWriteMs: number;
  /** Batches written each way so far. */
  sync: number;
  async: number;
}

/**
 * Writes a part body to a new file and returns its length.
 *
 * Batches are written synchronously while that is fast: every asynchronous file write is
 * a round trip through libuv's thread pool, and on the 1 GB study of bench/ those round
 * trips held the download at 0.38–0.46× the rate of curl writing the same answer (curl
 * writes synchronously too); written synchronously the client reaches about 0.8×. Once a
 * write is slow (see {@link SLOW_SYNC_WRITE_MS}) the rest goes asynchronously, one batch
 * being written while the next is gathered: at most 2 × {@link WRITE_BATCH_BYTES} held.
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
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = async (chunks: Uint8Array[]): Promise<void> => {
    if (state.mode === 'sync') {
      const started = performance.now();
      writeAllSync(fd, chunks);
      state.sync++;
      if (performance.now() - started > state.slowWriteMs) state.mode = 'async';
      return;
    }
    await writing;
    state.async++;
    writing = writeAll(fd, chunks);
    writing.catch(() => undefined); // awaited before the next batch or below; never unhandled
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
  } finally {
    await writing.catch(() => undefined);
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

/**
 * Writes the parts of a socket-read answer: each view is copied into one reused batch
 * buffer ({@link WRITE_BATCH_BYTES}) that is written synchronously when full, inside the
 * read callback, so the read buffer can be refilled as soon as the callback returns. Once
 * a write is slow (see {@link SLOW_SYNC_WRITE_MS}) full batches go to the thread pool
 * instead, in fresh buffers, and reading pauses while two are in flight.
 */
class SocketPartWriter {
  private batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
  private fill = 0;
  private fd = -1;
  private temporary = '';
  private bytes = 0;
  private inflight = 0;
  private paused = false;
  private writing: Promise<void> = Promise.resolve();
  private failed: unknown;

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
      const copied = view.copy(this.batch, this.fill, offset);
      this.fill += copied;
      offset += copied;
      if (this.fill === this.batch.length) this.flush();
    }
  }

  /** False while two batches wait for the thread pool: the socket pauses until one is written. */
  wantsMore(): boolean {
    if (this.inflight < 2) return true;
    this.paused = true;
    return false;
  }

  /** Ends the current part's file; resolves with its length once every byte is on disk. */
  close(): Promise<number> {
    this.flush();
    const fd = this.fd;
    const bytes = this.bytes;
    this.fd = -1;
    if (this.inflight === 0 && this.failed === undefined) {
      closeSync(fd);
      return Promise.resolve(bytes);
    }
    // `writing` never rejects: a failed write is kept in `failed` (and fails the next write).
    const done = this.writing.then(() => {
      closeSync(fd);
      if (this.failed !== undefined) throw this.failed;
      return bytes;
    });
    this.writing = done.then(() => undefined);
    return done;
  }

  /** After a failure: closes and removes the part being written. */
  async abandon(): Promise<void> {
    await this.writing.catch(() => undefined);
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
      await rm(this.temporary, { force: true });
    }
  }

  private flush(): void {
    if (this.fill === 0) return;
    if (this.state.mode === 'sync') {
      const started = performance.now();
      writeAllSync(this.fd, [this.batch.subarray(0, this.fill)]);
      this.state.sync++;
      this.fill = 0;
      if (performance.now() - started > this.state.slowWriteMs) this.state.mode = 'async';
      return;
    }
    const full = this.batch.subarray(0, this.fill);
    this.batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
    this.fill = 0;
    this.inflight++;
    this.state.async++;
    const fd = this.fd;
    this.writing = this.writing
      .then(() => writeAll(fd, [full]))
      .catch((error: unknown) => {
        this.failed ??= error;
      })
      .finally(() => {
        this.inflight--;
        if (this.paused && this.inflight < 2) {
          this.paused = false;
          this.resume();
        }
      });
  }
}
