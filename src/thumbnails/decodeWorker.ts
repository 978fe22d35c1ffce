/**
 * The thumbnail thread: a tooltip's frame decoded in a worker thread (node:worker_threads)
 * of the extension host, with every codec the preview has (decodeWorkerMain.ts).
 *
 * Why: decoding is synchronous work (a 512² JPEG 2000 frame takes tens of ms, a 4096² one
 * seconds), and the extension host's event loop serves every extension and every UI
 * request; issue 14 holds it to under 50 ms at a time. Here the host only sends the
 * frame's bytes and receives a small PNG.
 *
 * One thread per extension host, started on first need and stopped after
 * {@link IDLE_STOP_MS} without work, and on deactivate (dispose). One frame is in the thread at
 * a time; the others wait in a queue bounded by count and by bytes. A thread that dies, or
 * takes longer than {@link DECODE_TIMEOUT_MS} on one frame, is replaced: that frame gets an
 * error with the reason (the tooltip says "no thumbnail"), the next one a fresh thread.
 */
import { Worker } from 'node:worker_threads';
import type { FrameEncoding } from '../imaging/decode/decodeFrame';
import { DecodeError } from '../imaging/decode/types';
import type { ImageInfo } from '../imaging/types';
import { oversizeError } from './hostDecode';

/** A thread without work stops after 30 s (its codecs' memory, tens of MB, goes with it). */
export const IDLE_STOP_MS = 30_000;

/**
 * Longest one frame may take in the thread: 20 s. A 512² JPEG 2000 frame takes about 25 ms
 * here (bench/thumbnailThread.bench.ts: 20 in ~0.6 s); the largest frame accepted (4096²,
 * 64 times the pixels) is then estimated at 2 s. Ten times that is a thread that hangs (a
 * codec in a loop), not one that is slow, and it is stopped.
 */
export const DECODE_TIMEOUT_MS = 20_000;

/**
 * Most frames waiting for the thread: 16 (four connections' worth of the 4 requests each
 * has in flight, thumbnails/limiter.ts); a further one is refused at once.
 */
export const MAX_QUEUED = 16;

/**
 * Most bytes of frames waiting: 128 MiB, so the queue cannot hold more than about one
 * largest native frame (4096² × 3 samples × 16 bits = 96 MiB) beside smaller ones.
 */
export const MAX_QUEUED_BYTES = 128 * 1024 * 1024;

/** What the host sends (the bytes are transferred, not copied). */
export interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  info: ImageInfo;
  encoding: FrameEncoding;
  size: number;
}

/** What the thread answers. */
export type DecodeAnswer =
  | { id: number; png: Uint8Array }
  | { id: number; error: string; unsupported: boolean; decode: boolean };

/** A frame and its size, as ConnectionThumbnails gives it to its decoder. */
export type ThumbnailDecoder = (
  bytes: Uint8Array,
  info: ImageInfo,
  encoding: FrameEncoding,
  size: number,
  signal?: AbortSignal,
) => Promise<Uint8Array>;

export interface ThumbnailThreadOptions {
  /** The thread's script: dist/thumbnailWorker.js (the bundle of decodeWorkerMain.ts). */
  script: string;
  idleStopMs?: number;
  timeoutMs?: number;
  maxQueued?: number;
  maxQueuedBytes?: number;
}

interface Job {
  request: DecodeRequest;
  resolve: (png: Uint8Array) => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * The view itself when it spans its whole buffer (then moved, not copied), else a copy of
 * it (a part cut from a larger answer, or a Buffer of Node's shared pool: moving that
 * buffer would take the rest of it from this thread). `new Uint8Array(view)` copies;
 * `Buffer#slice` would not.
 */
export function transferable(bytes: Uint8Array): Uint8Array {
  const whole =
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : new Uint8Array(bytes);
}

/** Stops a thread whose answers no longer matter (an error it still emits is dropped). */
function retire(worker: Worker): void {
  worker.removeAllListeners();
  worker.on('error', () => undefined);
  void worker.terminate();
}

function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}

export class ThumbnailThread {
  private worker: Worker | undefined;
  private current: Job | undefined;
  private readonly queue: Job[] = [];
  private queuedBytes = 0;
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** Threads started so far (a crash or a hang starts a fresh one). */
  started = 0;
  /** Most frames that waited at once. */
  peakQueued = 0;
  /** Frames drawn, by the transfer syntax they came in (the log's and the tests' view). */
  readonly drawn = new Map<string, number>();
  private readonly idleStopMs: number;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;

  constructor(private readonly options: ThumbnailThreadOptions) {
    this.idleStopMs = options.idleStopMs ?? IDLE_STOP_MS;
    this.timeoutMs = options.timeoutMs ?? DECODE_TIMEOUT_MS;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED;
    this.maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  }

  /** Whether a thread is running now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /**
   * A PNG of the frame, at most `size` pixels a side. The bytes are moved to the thread
   * when they span their whole buffer: the caller must not use them afterwards.
   * @throws DecodeError with the reason (too large, queue full, the thread failed).
   */
  readonly decode: ThumbnailDecoder = (bytes, info, encoding, size, signal) => {
    const refused = this.refusal(bytes, info);
    if (refused) return Promise.reject(refused);
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<Uint8Array>((resolve, reject) => {
      const request = { id: ++this.nextId, bytes, info, encoding, size };
      const job: Job = { request, resolve, reject, signal };
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.queuedBytes += bytes.byteLength;
      this.peakQueued = Math.max(this.peakQueued, this.queue.length);
      this.pump();
    });
  };

  private refusal(bytes: Uint8Array, info: ImageInfo): DecodeError | undefined {
    if (this.disposed) return new DecodeError('the thumbnail thread is stopped', false);
    const oversize = oversizeError(info);
    if (oversize) return oversize;
    if (this.queue.length >= this.maxQueued)
      return new DecodeError(
        `${this.queue.length} thumbnails are already waiting to be decoded (at most ${this.maxQueued})`,
        false,
      );
    if (this.queue.length > 0 && this.queuedBytes + bytes.byteLength > this.maxQueuedBytes)
      return new DecodeError(
        `the frames waiting to be decoded already hold ${(this.queuedBytes / 2 ** 20).toFixed(0)} MiB (at most ${this.maxQueuedBytes / 2 ** 20} MiB)`,
        false,
      );
    return undefined;
  }

  /** A waiting frame leaves the queue; the one in the thread is answered and its PNG dropped. */
  private abort(job: Job): void {
    const at = this.queue.indexOf(job);
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.queuedBytes -= job.request.bytes.byteLength;
    }
    job.reject(cancelled(job.signal!));
  }

  private settle(job: Job, outcome: { png?: Uint8Array; error?: Error }): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (outcome.png) job.resolve(outcome.png);
    else job.reject(outcome.error!);
  }

  /** Sends the next frame when the thread is free; arms the idle stop when nothing is left. */
  private pump(): void {
    if (this.current || this.disposed) return;
    const job = this.queue.shift();
    if (!job) {
      this.worker?.unref();
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.stopWorker(), this.idleStopMs);
      this.idleTimer.unref();
      return;
    }
    this.queuedBytes -= job.request.bytes.byteLength;
    clearTimeout(this.idleTimer);
    this.current = job;
    const worker = this.ensureWorker();
    worker.ref();
    const bytes = transferable(job.request.bytes);
    worker.postMessage({ ...job.request, bytes }, [bytes.buffer as ArrayBuffer]);
    this.timeoutTimer = setTimeout(
      () =>
        this.fail(
          worker,
          `the thumbnail thread took more than ${this.timeoutMs / 1000} s on this frame and was stopped`,
        ),
      this.timeoutMs,
    );
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.script);
    this.started++;
    worker.on('message', (answer: DecodeAnswer) => this.answered(worker, answer));
    worker.on('error', (error) =>
      this.fail(worker, `the thumbnail thread failed: ${error.message}`),
    );
    worker.on('exit', (code) =>
      this.fail(worker, `the thumbnail thread stopped (exit code ${code})`),
    );
    this.worker = worker;
    return worker;
  }

  private answered(worker: Worker, answer: DecodeAnswer): void {
    const job = this.current;
    if (worker !== this.worker || !job || job.request.id !== answer.id) return;
    clearTimeout(this.timeoutTimer);
    this.current = undefined;
    if ('png' in answer) {
      const { encoding, info } = job.request;
      const syntax = encoding.transferSyntaxUid ?? info.transferSyntaxUid ?? encoding.mediaType;
      this.drawn.set(syntax, (this.drawn.get(syntax) ?? 0) + 1);
      this.settle(job, { png: answer.png });
    } else {
      const error = answer.decode
        ? new DecodeError(answer.error, answer.unsupported)
        : new Error(answer.error);
      this.settle(job, { error });
    }
    this.pump();
  }

  /** The thread died or hung: its frame fails with the reason, the next frame gets a new thread. */
  private fail(worker: Worker, reason: string): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    clearTimeout(this.timeoutTimer);
    retire(worker);
    const job = this.current;
    this.current = undefined;
    if (job) this.settle(job, { error: new DecodeError(reason, false) });
    this.pump();
  }

  private stopWorker(): void {
    const worker = this.worker;
    if (!worker || this.current) return;
    this.worker = undefined;
    retire(worker);
  }

  /** Stops the thread; waiting frames fail as stopped. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.timeoutTimer);
    const waiting = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    this.queuedBytes = 0;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) retire(worker);
    for (const job of waiting)
      this.settle(job, { error: new DecodeError('the thumbnail thread is stopped', false) });
  }
}
