/**
 * STOW-RS (PS3.18 §10.5): many files in batched multipart/related requests streamed from
 * disk, a bounded number in flight, and one reported outcome per file. Where the server's
 * answer is ambiguous (Orthanc's empty FailedSOPSequence, a 400 for a mixed batch, a
 * broken connection), the instances are looked up by SOPInstanceUID before anything is
 * reported as stored or failed.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  readInstanceIdentityAndSmallFile,
  DicomFileError,
  type InstanceIdentity,
} from '../../dicom/part10';
import type { DicomWebSession } from '../session';
import { search } from '../search';
import { DicomWebError, DicomWebHttpError } from '../transport/errors';
import type { HttpResponse } from '../transport/http';
import {
  multipartBody,
  multipartContentType,
  multipartLength,
  newBoundary,
} from '../../mime/multipart';
import { storeRequest, storeSinglePartRequest, type RequestSpec } from '../requests';
import {
  parseStowResponse,
  reasonText,
  type InstanceOutcome,
  type StoreStatus,
} from './stowResponse';
import { Tag } from '../../dicom/tags';
import { readWholeBody } from '../../mime/body';
import { markReplaced } from './upsertOutcome';

export interface StoreOptions {
  /** `POST /studies/{study}`: every instance must belong to this study (PS3.18 §10.5.1). */
  studyInstanceUid?: string;
  /**
   * `multipart` (the standard, default) or `single`: one `Content-Type: application/dicom`
   * request per file (Azure's non-standard form in the seed tutorial).
   */
  mode?: 'multipart' | 'single';
  /** Files per request (default 50; Orthanc measured ~2× faster at 50 than at 1). */
  batchSize?: number;
  /** Bytes per request before a new one starts (default 256 MiB). */
  maxBatchBytes?: number;
  /** Requests in flight (default 2). */
  concurrency?: number;
  /**
   * With a target study, files of another study are reported failed without being sent
   * (default true); false lets the server decide (and answer 409 / 0xA901).
   */
  checkStudyLocally?: boolean;
  /** Query the server for instances whose outcome the answer left unclear (default true). */
  verifyAmbiguous?: boolean;
  /**
   * Upsert: `PUT` instead of `POST` (Azure DICOM service API v2, the local server), so an
   * instance already stored is replaced instead of refused (45070). Each stored file's
   * {@link FileOutcome.replaced} comes from a search just before its batch is sent
   * (upsertOutcome.ts): the service's answer does not say.
   */
  replace?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: StoreProgress) => void;
}

export interface StoreProgress {
  filesDone: number;
  filesTotal: number;
  bytesSent: number;
  bytesTotal: number;
}

export interface FileOutcome {
  file: string;
  status: StoreStatus;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  /** RetrieveURL (0008,1190) of the stored instance. */
  retrieveUrl?: string;
  /** WarningReason or FailureReason code, and its meaning. */
  reasonCode?: number;
  reasonText?: string;
  /** The server's ErrorComments, an HTTP error, or why the file was skipped. */
  message?: string;
  /** HTTP status of the request that carried the file. */
  httpStatus?: number;
  /** True when the outcome comes from a query after an ambiguous answer. */
  verified?: boolean;
  /**
   * Upsert only: true when an instance with this SOPInstanceUID was stored before the file
   * was sent (it was replaced), false when it was new; absent when that could not be known.
   */
  replaced?: boolean;
}

export interface StoreSummary {
  outcomes: FileOutcome[];
  stored: number;
  warnings: number;
  failed: number;
  skipped: number;
  /** Warning headers the server sent. */
  serverWarnings: string[];
}

/** How long the check of a cancelled request's files may take. */
const VERIFY_AFTER_CANCEL_MS = 3_000;

interface Prepared {
  file: string;
  identity: InstanceIdentity;
  /** The whole file, kept from reading its identity (see {@link KEPT_FILES_BYTES}). */
  bytes?: Buffer;
}

/**
 * STOW-RS of many files (DicomWebClient.storeInstances): prepares them, sends the batches a
 * few at a time, and resolves with one outcome per file in the order given.
 */
export async function storeFiles(
  client: DicomWebSession,
  files: ReadonlyArray<string>,
  options: StoreOptions = {},
): Promise<StoreSummary> {
  const outcomes = new Map<string, FileOutcome>();
  const prepared = await prepareFiles(files, options, outcomes);
  const progress: StoreProgress = {
    filesDone: outcomes.size,
    filesTotal: files.length,
    bytesSent: 0,
    bytesTotal: prepared.reduce((sum, item) => sum + item.identity.size, 0),
  };
  const report = (): void => options.onProgress?.({ ...progress });
  report();
  const batches =
    options.mode === 'single'
      ? prepared.map((item) => [item])
      : makeBatches(prepared, options.batchSize ?? 50, options.maxBatchBytes ?? 256 * 1024 * 1024);
  const serverWarnings: string[] = [];
  let next = 0;
  // A few workers take the batches in turn: a bounded number of requests in flight.
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++];
      if (options.signal?.aborted) {
        for (const item of batch) {
          outcomes.set(item.file, {
            file: item.file,
            status: 'skipped',
            sopInstanceUid: item.identity.sopInstanceUid,
            message: 'cancelled before sending',
          });
        }
        continue;
      }
      const onBytes = (bytes: number): void => {
        progress.bytesSent += bytes;
        report();
      };
      const results = await sendBatch(client, batch, options, onBytes, serverWarnings);
      for (const result of results) outcomes.set(result.file, result);
      for (const item of batch) item.bytes = undefined; // sent: the kept bytes are not needed again
      progress.filesDone += batch.length;
      report();
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, batches.length)) }, worker),
  );
  return summarize(files, outcomes, serverWarnings);
}

/**
 * Reads each file's identity first (a header prefix, never the whole file): it maps the
 * server's per-SOPInstanceUID answer back to files and catches non-DICOM files unsent.
 * Headers are read a few files ahead (waits on the file system overlap), and used strictly
 * in the order given. Small files are read whole for it and kept to be sent, up to
 * KEPT_FILES_BYTES in all: one read a file instead of two (bench/: client.store.*).
 * Files not to send (unreadable, a duplicate, another study) get their outcome here.
 */
async function prepareFiles(
  files: ReadonlyArray<string>,
  options: StoreOptions,
  outcomes: Map<string, FileOutcome>,
): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  const seenUids = new Map<string, string>();
  let kept = 0;
  const identityOf = readAhead(files, IDENTITY_READ_AHEAD, (file) =>
    readInstanceIdentityAndSmallFile(file, kept < KEPT_FILES_BYTES ? FILE_CHUNK_BYTES : 0),
  );
  for (const [index, file] of files.entries()) {
    if (options.signal?.aborted) break;
    try {
      const { identity, bytes } = await identityOf(index);
      const refusal = notToSend(file, identity, seenUids, options);
      if (refusal) {
        outcomes.set(file, refusal);
        continue;
      }
      seenUids.set(identity.sopInstanceUid, file);
      if (bytes && kept + bytes.length <= KEPT_FILES_BYTES) {
        kept += bytes.length;
        prepared.push({ file, identity, bytes });
      } else {
        prepared.push({ file, identity });
      }
    } catch (error) {
      const message =
        error instanceof DicomFileError
          ? error.message
          : `cannot read: ${(error as Error).message}`;
      outcomes.set(file, { file, status: 'skipped', message });
    }
  }
  return prepared;
}

/**
 * The outcome of a file that is not sent: a second file with a SOPInstanceUID already in
 * this upload, or (with a target study checked locally) a file of another study, which the
 * server would refuse with 0xA901 (PS3.18 §10.5.1).
 */
function notToSend(
  file: string,
  identity: InstanceIdentity,
  seenUids: ReadonlyMap<string, string>,
  options: StoreOptions,
): FileOutcome | undefined {
  const duplicateOf = seenUids.get(identity.sopInstanceUid);
  if (duplicateOf) {
    return {
      file,
      status: 'skipped',
      sopInstanceUid: identity.sopInstanceUid,
      message: `same SOPInstanceUID as ${duplicateOf} in this upload`,
    };
  }
  if (
    options.studyInstanceUid &&
    identity.studyInstanceUid !== options.studyInstanceUid &&
    options.checkStudyLocally !== false
  ) {
    return {
      file,
      status: 'failed',
      sopInstanceUid: identity.sopInstanceUid,
      studyInstanceUid: identity.studyInstanceUid,
      reasonCode: 0xa901,
      reasonText: reasonText(0xa901),
      message: `belongs to study ${identity.studyInstanceUid}, not ${options.studyInstanceUid}; not sent`,
    };
  }
  return undefined;
}

/** One outcome per file in the order given (files never reached: cancelled), and the counts. */
function summarize(
  files: ReadonlyArray<string>,
  outcomes: ReadonlyMap<string, FileOutcome>,
  serverWarnings: string[],
): StoreSummary {
  const ordered = files.map(
    (file) =>
      outcomes.get(file) ?? {
        file,
        status: 'skipped' as const,
        message: 'cancelled before reading',
      },
  );
  return {
    outcomes: ordered,
    stored: ordered.filter((o) => o.status === 'stored').length,
    warnings: ordered.filter((o) => o.status === 'warning').length,
    failed: ordered.filter((o) => o.status === 'failed').length,
    skipped: ordered.filter((o) => o.status === 'skipped').length,
    serverWarnings,
  };
}

function makeBatches(items: Prepared[], batchSize: number, maxBytes: number): Prepared[][] {
  const batches: Prepared[][] = [];
  let current: Prepared[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length > 0 &&
      (current.length >= batchSize || bytes + item.identity.size > maxBytes)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.identity.size;
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Read size of a streamed file; a file no larger is read in one piece anyway. */
const FILE_CHUNK_BYTES = 256 * 1024;
/**
 * Small files read whole for their identity are kept for sending up to this many bytes in
 * all (a thousand 13 KB instances fit); past it they are read again when their turn comes.
 */
const KEPT_FILES_BYTES = 16 * 1024 * 1024;
/** File headers read ahead of the one being checked. */
const IDENTITY_READ_AHEAD = 16;
/** Small files (one chunk at most) read ahead of the part being sent. */
const FILE_READ_AHEAD = 16;

/**
 * `get(i)` resolves `load(items[i])`, after starting the loads up to `window` items past
 * `i`, so that waits on the file system overlap. Call it with increasing indexes. A load
 * that fails rejects only when its index is asked for.
 */
function readAhead<T, R>(
  items: ReadonlyArray<T>,
  window: number,
  load: (item: T) => Promise<R>,
): (index: number) => Promise<R> {
  const pending = new Map<number, Promise<R>>();
  let started = 0;
  return (index) => {
    while (started < items.length && started <= index + window) {
      const promise = load(items[started]!);
      // Rejected loads are reported when asked for, never as unhandled.
      promise.catch(() => undefined);
      pending.set(started++, promise);
    }
    const promise = pending.get(index) ?? load(items[index]!);
    pending.delete(index);
    return promise;
  };
}

async function* countingFile(
  path: string,
  onBytes: (bytes: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES, signal });
  for await (const chunk of stream) {
    onBytes((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

/** A small file read ahead whole (see {@link FILE_READ_AHEAD}), counted when it is sent. */
async function* prefetchedFile(
  bytes: Promise<Buffer | undefined>,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  const buffer = (await bytes)!;
  onBytes(buffer.length);
  yield buffer;
}

/** What came back for one batch: the status and body text, or the failure instead. */
interface BatchAnswer {
  status?: number;
  bodyText: string;
  transportError?: DicomWebError;
  /** Bytes of the batch that went out in the last attempt. */
  bytesSent: number;
}

/** Sends one batch and reports one outcome per file in it (never rejects). */
async function sendBatch(
  client: DicomWebSession,
  batch: Prepared[],
  options: StoreOptions,
  onBytes: (bytes: number) => void,
  serverWarnings: string[],
): Promise<FileOutcome[]> {
  const before = options.replace ? await lookupStored(client, batch, options.signal) : undefined;
  const answer = await postBatch(client, batch, options, onBytes, serverWarnings);
  const outcomes = await reconcile(client, batch, answer, options);
  return options.replace ? outcomes.map((outcome) => markReplaced(outcome, before)) : outcomes;
}

/**
 * Posts the batch, with one resend after a 401 for which the auth provider got fresh
 * credentials (an expired token): the spent body is rebuilt from the files and sent once
 * more (RFC 9110 §15.5.2). Reads the answer whole; a failure is kept, not thrown.
 */
async function postBatch(
  client: DicomWebSession,
  batch: Prepared[],
  options: StoreOptions,
  onBytes: (bytes: number) => void,
  serverWarnings: string[],
): Promise<BatchAnswer> {
  const answer: BatchAnswer = { bodyText: '', bytesSent: 0 };
  let attempt = 0;
  /** Counts the bytes of the current attempt only: a spent body may still be read after a 401. */
  const counter = (): ((bytes: number) => void) => {
    const mine = ++attempt;
    return (bytes) => {
      if (mine !== attempt) return;
      answer.bytesSent += bytes;
      onBytes(bytes);
    };
  };
  const post = (refreshCredentials: boolean): Promise<HttpResponse> =>
    postOnce(client, batchRequest(batch, options, counter()), options, refreshCredentials);
  try {
    let response: HttpResponse;
    try {
      response = await post(true);
    } catch (error) {
      if (!(
        error instanceof DicomWebHttpError &&
        error.status === 401 &&
        error.credentialsRefreshed
      ))
        throw error;
      onBytes(-answer.bytesSent);
      answer.bytesSent = 0;
      response = await post(false);
    }
    answer.status = response.status;
    answer.bodyText = (await readWholeBody(response.body)).toString('utf8');
    const warning = response.headers.warning;
    if (warning) serverWarnings.push(warning);
  } catch (error) {
    answer.transportError = asStoreError(error, options.signal);
    if (answer.transportError instanceof DicomWebHttpError)
      answer.status = answer.transportError.status;
  }
  return answer;
}

/**
 * A failure of the post as the client's typed error. An abort can surface from the file
 * streams (fs's AbortError) rather than from undici: it is a cancellation all the same, so
 * the batch's fate is checked the cancel's way.
 */
function asStoreError(error: unknown, signal?: AbortSignal): DicomWebError {
  if (error instanceof DicomWebError) return error;
  const aborted = signal?.aborted || (error as Error | undefined)?.name === 'AbortError';
  return aborted
    ? new DicomWebError('CANCELLED', 'the upload was cancelled', { cause: error })
    : new DicomWebError('NETWORK', String(error), { cause: error });
}

/** A STOW request built afresh for each attempt: its body streams from the files on disk. */
interface BatchRequest {
  spec: RequestSpec;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

function postOnce(
  client: DicomWebSession,
  request: BatchRequest,
  options: StoreOptions,
  refreshCredentials: boolean,
): Promise<HttpResponse> {
  // PS3.18 §10.5.3: 200, 202 (some stored), 409 (none stored) and 400 all carry a
  // per-instance answer worth reading; so does Azure's 204 (nothing to store).
  return client.send(request.spec, {
    headers: request.headers,
    body: request.body,
    signal: options.signal,
    refreshCredentials,
    // The STOW answer is read into memory: a JSON body under the client's cap (limits.ts).
    maxBodyBytes: client.transport.limits.json,
    acceptStatus: (code) =>
      code === 400 || code === 409 || code === 415 || code === 406 || code === 424,
  });
}

/** The request of one batch: one file as `application/dicom` (single mode), else multipart. */
function batchRequest(
  batch: Prepared[],
  options: StoreOptions,
  countBytes: (bytes: number) => void,
): BatchRequest {
  const method = options.replace ? 'PUT' : 'POST';
  if (options.mode === 'single') {
    const spec = storeSinglePartRequest(batch[0].file, method);
    return {
      spec,
      headers: { ...spec.headers, 'content-length': String(batch[0].identity.size) },
      body: countingFile(batch[0].file, countBytes, options.signal),
    };
  }
  const boundary = newBoundary();
  const spec = storeRequest(
    batch.map((item) => item.file),
    options.studyInstanceUid,
    method,
  );
  const length = multipartLength(
    batch.map((item) => item.identity.size),
    'application/dicom',
    boundary,
  );
  return {
    spec,
    // Content-Length instead of chunked encoding: some gateways refuse chunked uploads.
    headers: {
      ...spec.headers,
      'content-type': multipartContentType(boundary),
      'content-length': String(length),
    },
    body: multipartBody(batchParts(batch, countBytes, options.signal), boundary),
  };
}

/**
 * The parts of a multipart batch. Small files are read whole a few parts ahead of the one
 * being sent (at most FILE_READ_AHEAD chunks in memory), so that each does not wait for
 * open, read and close in turn: that halved the rate of 13 KB instances (bench/). Larger
 * files stream chunk by chunk when their turn comes.
 */
function* batchParts(
  batch: Prepared[],
  countBytes: (bytes: number) => void,
  signal?: AbortSignal,
): Generator<{ contentType: string; body: AsyncIterable<Uint8Array>; length: number }> {
  const small = (item: Prepared): boolean => item.identity.size <= FILE_CHUNK_BYTES;
  const ahead = readAhead(batch, FILE_READ_AHEAD, (item) =>
    item.bytes
      ? Promise.resolve(item.bytes)
      : small(item)
        ? readFile(item.file, { signal })
        : Promise.resolve(undefined),
  );
  for (const [index, item] of batch.entries()) {
    const bytes = ahead(index);
    yield {
      contentType: 'application/dicom',
      body: small(item)
        ? prefetchedFile(bytes, countBytes)
        : countingFile(item.file, countBytes, signal),
      length: item.identity.size,
    };
  }
}

/**
 * One outcome per file from the server's answer (PS3.18 §10.5.3). Files the answer leaves
 * unclear (not named, an ambiguous status, a broken connection) are looked up by
 * SOPInstanceUID before they are called stored or failed.
 */
async function reconcile(
  client: DicomWebSession,
  batch: Prepared[],
  answer: BatchAnswer,
  options: StoreOptions,
): Promise<FileOutcome[]> {
  const { status, bodyText, transportError } = answer;
  const parsed = parseStowBody(bodyText);
  const httpMessage =
    transportError?.message ??
    (status !== undefined && status >= 300
      ? `HTTP ${status}${bodyText && !parsed ? `: ${bodyText.slice(0, 300)}` : ''}`
      : undefined);
  const results: FileOutcome[] = [];
  const unclear: Prepared[] = [];
  for (const item of batch) {
    const named: InstanceOutcome | undefined = parsed?.outcomes.get(item.identity.sopInstanceUid);
    if (named) {
      results.push(fromAnswer(item, named, status));
    } else if (
      status !== undefined &&
      status >= 200 &&
      status < 300 &&
      parsed &&
      !parsed.emptyFailedSequence &&
      parsed.outcomes.size === 0 &&
      status !== 204
    ) {
      // 2xx with a body naming nobody: treat as unclear rather than trusting it.
      unclear.push(item);
    } else if (
      status === 415 ||
      status === 406 ||
      status === 405 ||
      status === 401 ||
      status === 403
    ) {
      // The whole request was refused for its form (405: a PUT where the server has no
      // upsert), or its credentials; nothing of it was stored, and a verifying query would
      // only meet the same refusal (or find the old copy a PUT meant to replace).
      results.push(failed(item, status, httpMessage));
    } else {
      unclear.push(item);
    }
  }
  if (unclear.length > 0) {
    results.push(...(await verifyUnclear(client, batch, unclear, answer, httpMessage, options)));
  }
  return results;
}

/** The STOW response body as parsed (stowResponse.ts); undefined when empty or not JSON. */
function parseStowBody(bodyText: string): ReturnType<typeof parseStowResponse> {
  if (!bodyText.trim()) return undefined;
  try {
    return parseStowResponse(JSON.parse(bodyText));
  } catch {
    return undefined;
  }
}

/** The outcomes of the files the answer left unclear, checked on the server by QIDO. */
async function verifyUnclear(
  client: DicomWebSession,
  batch: Prepared[],
  unclear: Prepared[],
  answer: BatchAnswer,
  httpMessage: string | undefined,
  options: StoreOptions,
): Promise<FileOutcome[]> {
  const { status, transportError } = answer;
  const cancelled = transportError?.code === 'CANCELLED';
  // A request cancelled after its whole body went out may still be stored, part by part,
  // after the abort (measured on Orthanc): calling its files "failed" unasked was wrong.
  const bodyComplete = answer.bytesSent >= batch.reduce((sum, item) => sum + item.identity.size, 0);
  const present =
    options.verifyAmbiguous === false
      ? undefined
      : cancelled
        ? await lookupAfterCancel(client, unclear, bodyComplete)
        : await lookupStored(client, unclear, options.signal);
  return unclear.map((item): FileOutcome => {
    if (present?.has(item.identity.sopInstanceUid)) {
      const message = cancelled
        ? 'cancelled, but the server had already stored it'
        : status !== undefined && status >= 300
          ? `the server answered ${status} but the instance is stored`
          : undefined;
      return { ...base(item), status: 'stored', httpStatus: status, verified: true, message };
    }
    if (cancelled && present && bodyComplete) {
      return {
        ...failed(
          item,
          status,
          'cancelled after the whole request was sent: not stored when last checked, but the server may still store it',
        ),
        verified: false,
      };
    }
    return {
      ...failed(item, status, httpMessage ?? 'the server did not name this instance in its answer'),
      verified: present !== undefined,
    };
  });
}

function base(
  item: Prepared,
): Pick<FileOutcome, 'file' | 'sopInstanceUid' | 'studyInstanceUid' | 'seriesInstanceUid'> {
  return {
    file: item.file,
    sopInstanceUid: item.identity.sopInstanceUid,
    studyInstanceUid: item.identity.studyInstanceUid,
    seriesInstanceUid: item.identity.seriesInstanceUid,
  };
}

function fromAnswer(
  item: Prepared,
  answer: InstanceOutcome,
  status: number | undefined,
): FileOutcome {
  return {
    ...base(item),
    status: answer.status,
    retrieveUrl: answer.retrieveUrl,
    reasonCode: answer.reasonCode,
    reasonText: answer.reasonText,
    message: answer.errorComments?.join('; '),
    httpStatus: status,
  };
}

function failed(
  item: Prepared,
  status: number | undefined,
  message: string | undefined,
): FileOutcome {
  return { ...base(item), status: 'failed', httpStatus: status, message };
}

/**
 * The check after a cancelled request, with a signal of its own (the caller's is aborted)
 * and a short deadline. When the whole body had been sent the server may still be storing
 * it: ask again until every instance is there or the deadline passes.
 */
async function lookupAfterCancel(
  client: DicomWebSession,
  items: Prepared[],
  bodyComplete: boolean,
): Promise<Set<string> | undefined> {
  const deadline = Date.now() + VERIFY_AFTER_CANCEL_MS;
  let found = await lookupStored(client, items, AbortSignal.timeout(VERIFY_AFTER_CANCEL_MS));
  while (bodyComplete && found && found.size < items.length && Date.now() + 250 < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    found = await lookupStored(
      client,
      items,
      AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    );
  }
  return found;
}

/** QIDO by SOPInstanceUID lists (PS3.18 §8.3.4.1 UID list matching), 50 UIDs a query. */
async function lookupStored(
  client: DicomWebSession,
  items: Prepared[],
  signal?: AbortSignal,
): Promise<Set<string> | undefined> {
  const found = new Set<string>();
  try {
    for (let i = 0; i < items.length; i += 50) {
      const uids = items.slice(i, i + 50).map((item) => item.identity.sopInstanceUid);
      const result = await search(
        client,
        'instances',
        {},
        { match: { SOPInstanceUID: uids }, includeField: [Tag.SOPInstanceUID], limit: uids.length },
        { signal },
      );
      for (const dataset of result.items) {
        const uid = dataset[Tag.SOPInstanceUID]?.Value?.[0];
        if (typeof uid === 'string') found.add(uid);
      }
    }
    return found;
  } catch {
    return undefined;
  }
}
