/**
 * A WADO-RS download run in a worker thread (node:worker_threads), for callers whose own
 * thread is busy and whose heap is large — the VS Code extension host.
 *
 * Why: the host's event loop then carries none of the parsing and writing. And where the
 * answer is read through undici (a proxy, or a server the socket reader declines;
 * otherwise download.ts reads the socket into one reused buffer), it streams through
 * 64 KiB network buffers that V8 frees only at a full collection, whose cost grows with
 * the heap it marks: in the extension host (a heap of hundreds of MB) that download ran at
 * about 0.4× curl, in a thread with its own small heap at the rate of a lean process
 * (bench/: extension.download.*).
 *
 * The worker builds its own client from {@link DicomWebClient.portableOptions}. What cannot
 * cross a thread stays here and is asked for over messages: the credentials (so a token is
 * refreshed by the same provider, and never held by the worker longer than a request), and
 * the request log. Errors come back as the same typed DicomWebError / DicomWebHttpError.
 */
import { Worker } from 'node:worker_threads';
import type { DicomWebSession as DicomWebClient, PortableClientOptions } from '../session';
import type { DownloadOptions, DownloadResult } from './download';
import { DicomWebError, DicomWebHttpError, type DicomWebErrorCode } from '../transport/errors';
import type { RequestLogEntry } from '../transport/http';
import type { InstancePath } from '../requests';

/** What the worker is started with (its `workerData`). */
export interface DownloadWorkerData {
  client: PortableClientOptions;
  authKind: 'none' | 'bearer' | 'basic';
  target: InstancePath;
  directory: string;
  options: Omit<DownloadOptions, 'signal' | 'onProgress'>;
}

/** Messages from the worker. */
export type FromDownloadWorker =
  | { type: 'auth'; id: number; refresh: boolean }
  | { type: 'log'; entry: RequestLogEntry }
  | { type: 'progress'; files: number; bytes: number }
  | { type: 'done'; result: DownloadResult }
  | { type: 'error'; error: SerializedError };

/** Messages to the worker. */
export type ToDownloadWorker =
  | { type: 'auth'; id: number; value?: string; refreshed?: boolean; error?: string }
  | { type: 'cancel' };

/** An error as it crosses the thread boundary (a structured clone keeps no class). */
export interface SerializedError {
  name: string;
  message: string;
  code?: DicomWebErrorCode;
  method?: string;
  url?: string;
  status?: number;
  statusText?: string;
  serverMessage?: string;
  body?: unknown;
  retryAfterMs?: number;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof DicomWebHttpError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      method: error.method,
      url: error.url,
      status: error.status,
      statusText: error.statusText,
      serverMessage: error.serverMessage,
      body: error.body,
      retryAfterMs: error.retryAfterMs,
    };
  }
  if (error instanceof DicomWebError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      method: error.method,
      url: error.url,
      status: error.status,
      serverMessage: error.serverMessage,
    };
  }
  return {
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
  };
}

export function deserializeError(error: SerializedError): Error {
  if (
    error.name === 'DicomWebHttpError' &&
    error.method &&
    error.url &&
    error.status !== undefined
  ) {
    return new DicomWebHttpError(
      error.method,
      error.url,
      error.status,
      error.statusText ?? '',
      error.serverMessage,
      error.body,
      error.retryAfterMs,
    );
  }
  if (error.code) {
    return new DicomWebError(error.code, error.message, {
      method: error.method,
      url: error.url,
      status: error.status,
      serverMessage: error.serverMessage,
    });
  }
  const plain = new Error(error.message);
  plain.name = error.name;
  return plain;
}

/**
 * Answers the worker's question for a credential (or a refreshed one) from this thread's
 * auth provider: the provider may ask the person, which only the extension host can do.
 */
function answerAuth(
  auth: DicomWebClient['authProvider'],
  message: Extract<FromDownloadWorker, { type: 'auth' }>,
  post: (message: ToDownloadWorker) => void,
): void {
  const ask = message.refresh
    ? (auth.refresh?.() ?? Promise.resolve(false)).then((refreshed) => ({ refreshed }))
    : auth.authorization().then((value) => ({ value }));
  ask.then(
    (answer) => post({ type: 'auth', id: message.id, ...answer }),
    (error: unknown) =>
      post({
        type: 'auth',
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
      }),
  );
}

/**
 * `client.downloadToDirectory(target, directory, options)`, run in a worker thread started
 * from `workerScript` (the bundle of downloadWorkerMain.ts). Same result, same progress
 * callbacks, same cancellation and errors.
 */
export function downloadInWorker(
  client: DicomWebClient,
  workerScript: string,
  target: InstancePath,
  directory: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const { signal, onProgress, ...portable } = options;
  if (signal?.aborted)
    return Promise.reject(
      new DicomWebError('CANCELLED', `download of ${target.studyInstanceUid} was cancelled`),
    );
  const auth = client.authProvider;
  const data: DownloadWorkerData = {
    client: client.portableOptions(),
    authKind: auth.kind,
    target,
    directory,
    options: portable,
  };
  return new Promise<DownloadResult>((resolve, reject) => {
    const worker = new Worker(workerScript, { workerData: data });
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      outcome();
      // The worker closes its connections and exits by itself after its last message.
    };
    const post = (message: ToDownloadWorker): void => worker.postMessage(message);
    const onAbort = (): void => post({ type: 'cancel' });
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: FromDownloadWorker) => {
      switch (message.type) {
        case 'auth':
          answerAuth(auth, message, post);
          break;
        case 'log':
          client.requestLogger?.(message.entry);
          break;
        case 'progress':
          onProgress?.({ files: message.files, bytes: message.bytes });
          break;
        case 'done':
          finish(() => resolve(message.result));
          break;
        case 'error':
          finish(() => reject(deserializeError(message.error)));
          break;
      }
    });
    worker.on('error', (error) =>
      finish(() =>
        reject(
          new DicomWebError('WORKER_FAILED', `the download thread failed: ${error.message}`, {
            cause: error,
          }),
        ),
      ),
    );
    worker.on('exit', (code) =>
      finish(() =>
        reject(
          new DicomWebError(
            'WORKER_FAILED',
            `the download thread stopped (exit code ${code}) before it finished`,
          ),
        ),
      ),
    );
  });
}
