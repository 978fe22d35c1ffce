/**
 * At most a few requests in flight per connection (issue 14: thumbnails "never more than
 * a few in flight"): a grid of 500 instances scrolled through asks for tiles far faster
 * than a server answers them. Waiting tasks start in the order they came; a task whose
 * signal aborts while it waits leaves the queue without ever starting, and a running task
 * gets the signal to abort its request. No `vscode`: tested in plain Node.
 */

/** Requests in flight per connection at most: what browsers allow per HTTP/1.1 origin, less. */
export const MAX_IN_FLIGHT = 4;
/** Tasks waiting at most; beyond, a new task is refused (a page asking for more is broken). */
export const MAX_WAITING = 2_000;

export class LimiterFullError extends Error {
  override readonly name = 'LimiterFullError';
}

/** The error a task's promise rejects with when its signal aborted before it started. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('The thumbnail request was cancelled.');
  error.name = 'AbortError';
  return error;
}

interface Waiting {
  start: () => void;
  signal?: AbortSignal;
  onAbort: () => void;
}

export class RequestLimiter {
  private running = 0;
  private peakRunning = 0;
  private readonly waiting: Waiting[] = [];

  constructor(
    readonly maxInFlight = MAX_IN_FLIGHT,
    readonly maxWaiting = MAX_WAITING,
  ) {
    if (!(maxInFlight >= 1)) throw new RangeError('RequestLimiter: maxInFlight must be at least 1');
  }

  /** Tasks running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Most tasks that ever ran at once. */
  get peak(): number {
    return this.peakRunning;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` once fewer than {@link maxInFlight} run. Rejects without running it when
   * `signal` aborts first, or with {@link LimiterFullError} when {@link maxWaiting} wait.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortError(signal);
    // A slot freed is handed to the first waiting task (next()), so a task arriving in
    // between cannot take it: never more than maxInFlight, and first come first served.
    if (this.running >= this.maxInFlight || this.waiting.length > 0) await this.wait(signal);
    else this.running++;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      return await task();
    } finally {
      this.running--;
      this.next();
    }
  }

  private wait(signal?: AbortSignal): Promise<void> {
    if (this.waiting.length >= this.maxWaiting)
      return Promise.reject(
        new LimiterFullError(`More than ${this.maxWaiting} thumbnails are waiting for the server.`),
      );
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = {
        signal,
        start: () => {
          signal?.removeEventListener('abort', entry.onAbort);
          resolve();
        },
        onAbort: () => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(abortError(signal!));
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private next(): void {
    while (this.running < this.maxInFlight && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!.start();
    }
  }
}
