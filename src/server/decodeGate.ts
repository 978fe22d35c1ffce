/**
 * How many decodes (`/rendered`, `/thumbnail`, transcoding of compressed instances) the local
 * server runs at once, and how long a request may wait for its turn. A decode is CPU work
 * on the server's one thread (WebAssembly runs synchronously and cannot be interrupted), so
 * its time is bounded by what it may decode (src/imaging/decode/budget.ts, the size limit)
 * and the server's responsiveness by letting few run and few wait: a viewer asking for 500
 * thumbnails at once gets them in turn, and beyond the queue a 503 with Retry-After (RFC 9110
 * §15.6.4; the Azure DICOM service answers 503 when "busy", conformance statement) instead
 * of an unbounded backlog.
 */
import { HttpError } from './httpUtil';

/** Decodes running at once: 2. Each is synchronous CPU work; more would only interleave. */
export const MAX_ACTIVE_DECODES = 2;

/** Requests that may wait for a decode slot: 64 (a series of thumbnails a viewer asks at once). */
export const MAX_QUEUED_DECODES = 64;

/** Longest wait for a slot: 30 s, then 503. */
export const DECODE_QUEUE_TIMEOUT_MS = 30_000;

/** A counting semaphore with a bounded, timed queue. */
export class DecodeGate {
  private active = 0;
  private readonly waiting: Array<{ start: () => void; timer: NodeJS.Timeout }> = [];

  constructor(
    readonly maxActive = MAX_ACTIVE_DECODES,
    readonly maxQueued = MAX_QUEUED_DECODES,
    readonly timeoutMs = DECODE_QUEUE_TIMEOUT_MS,
  ) {}

  /** Runs `work` when a slot is free; 503 when the queue is full or the wait too long. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Requests running and waiting, for tests and logs. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting.length };
  }

  private acquire(): Promise<void> {
    if (this.active < this.maxActive) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueued) return Promise.reject(this.busy());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(this.busy());
        }, this.timeoutMs),
      };
      entry.timer.unref();
      this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `active` stays the same.
    if (next) next.start();
    else this.active--;
  }

  private busy(): HttpError {
    return new HttpError(
      503,
      `the local server is decoding ${this.active} image(s) with ${this.waiting.length} waiting (at most ${this.maxActive} and ${this.maxQueued}); try again shortly`,
      { 'retry-after': '1' },
    );
  }
}

/** The server process's gate (one per process, like its decoders). */
export const decodeGate = new DecodeGate();
