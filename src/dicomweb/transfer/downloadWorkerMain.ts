/**
 * The worker-thread side of downloadWorker.ts: builds a client from the options it was
 * started with, downloads, and reports progress, the request log and the outcome. The
 * Authorization header is asked of the starting thread for every request (and a refresh
 * after a 401), so credentials live only where the extension keeps them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AuthProvider } from '../transport/auth';
import { DicomWebSession as DicomWebClient } from '../session';
import { retrieveToDirectory } from './download';
import type { DownloadWorkerData, FromDownloadWorker, ToDownloadWorker } from './downloadWorker';
import { serializeError } from './downloadWorker';

const port = parentPort;
if (!port) throw new Error('downloadWorkerMain runs in a worker thread (see downloadWorker.ts)');
const data = workerData as DownloadWorkerData;
const post = (message: FromDownloadWorker): void => port.postMessage(message);

const pending = new Map<
  number,
  { resolve: (message: Extract<ToDownloadWorker, { type: 'auth' }>) => void }
>();
let nextId = 0;
const ask = (refresh: boolean): Promise<Extract<ToDownloadWorker, { type: 'auth' }>> =>
  new Promise((resolve) => {
    const id = ++nextId;
    pending.set(id, { resolve });
    post({ type: 'auth', id, refresh });
  });

const auth: AuthProvider = {
  kind: data.authKind,
  async authorization() {
    if (data.authKind === 'none') return undefined;
    const answer = await ask(false);
    if (answer.error !== undefined) throw new Error(answer.error);
    return answer.value;
  },
  async refresh() {
    const answer = await ask(true);
    return answer.error === undefined && answer.refreshed === true;
  },
};

const controller = new AbortController();
port.on('message', (message: ToDownloadWorker) => {
  if (message.type === 'cancel') controller.abort();
  else {
    pending.get(message.id)?.resolve(message);
    pending.delete(message.id);
  }
});

const client = new DicomWebClient({
  ...data.client,
  auth,
  onRequest: (entry) => post({ type: 'log', entry }),
});
retrieveToDirectory(client, data.target, data.directory, {
  ...data.options,
  signal: controller.signal,
  onProgress: ({ files, bytes }) => post({ type: 'progress', files, bytes }),
})
  .then(
    (result) => post({ type: 'done', result }),
    (error: unknown) => post({ type: 'error', error: serializeError(error) }),
  )
  .finally(() => {
    void client.close().finally(() => port.close());
  });
