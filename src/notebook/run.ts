/**
 * Runs one request cell through the extension's own client (src/dicomweb/client.ts), so a
 * cell gets the connection's auth, TLS, proxy, retries and the server profile (how Orthanc
 * deletes, how Azure stores) exactly as the tree's commands do. What kind of request it is
 * decides how it is sent and what the answer holds:
 * - STOW-RS (`POST /studies[/{study}]` with files): `storeInstances`, one outcome per file;
 * - DELETE of a study, series or instance: `deleteResource` (the server kind's way);
 * - an Accept of `multipart/related`: streamed, each part counted, never held whole;
 * - anything else: read whole, within {@link NOTEBOOK_LIMITS}.answerBytes.
 * No `vscode` import: the controller (src/notebookHost/) renders and shows the answer.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DicomJsonDataset } from '../dicom/types';
import { readInstanceIdentityAndDataSetFromBytes } from '../dicom/part10';
import { Tag } from '../dicom/tags';
import { warningsOf, type DicomWebClient } from '../dicomweb/client';
import { partsOf, type RetrievedPart } from '../dicomweb/parts';
import type { InstancePath, RequestSpec } from '../dicomweb/requests';
import { DicomWebError } from '../dicomweb/transport/errors';
import type { StoreSummary } from '../dicomweb/transfer/store';

/** The limits of what one cell reads; each has a test that reaches it (notebookRun tests). */
export const NOTEBOOK_LIMITS = {
  /** Largest answer read whole into a cell (JSON, a single-part binary): 32 MiB. */
  answerBytes: 32 * 1024 * 1024,
  /** Parts of a multipart retrieve listed one by one (the rest are counted): 1,000. */
  listedParts: 1000,
  /** Largest part read whole to find its SOP Instance UID (larger ones are counted): 8 MiB. */
  partIdentityBytes: 8 * 1024 * 1024,
  /** The longest a cell's request may take, body included: 10 minutes. */
  deadlineMs: 10 * 60 * 1000,
  /** Frames of a `/frames/…` answer kept to draw (the rest are listed, not drawn): 16. */
  shownFrames: 16,
};
export type NotebookLimits = typeof NOTEBOOK_LIMITS;

export interface PartSummary {
  mediaType: string;
  transferSyntaxUid?: string;
  bytes: number;
  sopInstanceUid?: string;
  contentLocation?: string;
}

/**
 * An image a cell shows: a rendered or thumbnail answer (PNG, JPEG, GIF: PS3.18 §10.4.1.1.4,
 * §10.4.1.1.5) as it came, or a frame of a `/frames/…` answer (PS3.18 §10.4.1.1.3) with
 * what decoding it needs (its media type and transfer syntax, PS3.18 §8.7.3.5.2).
 */
export interface AnswerImage {
  mediaType: string;
  transferSyntaxUid?: string;
  /** 1-based, for a frame: the frame's number as the path asked for it. */
  frameNumber?: number;
  bytes: Uint8Array;
}

export type AnswerKind = 'search' | 'metadata' | 'json' | 'parts' | 'store' | 'delete' | 'bytes';

export interface CellAnswer {
  kind: AnswerKind;
  /** The request as sent (file paths resolved); its Authorization is never in it. */
  request: RequestSpec;
  /** The HTTP status; 0 when the answer came from several requests (a delete) or is not known. */
  status: number;
  /** Time from sending to the end of the answer. */
  ms: number;
  /** Bytes of the answer's body (for a STOW: of the files sent). */
  bytes: number;
  contentType?: string;
  /** The parsed JSON (search, metadata, json). */
  json?: unknown;
  /** What `{{name.row.Keyword}}` reads: the JSON rows, or one row per stored instance. */
  datasets?: DicomJsonDataset[];
  parts?: PartSummary[];
  /** All parts of a multipart answer, listed or not. */
  partCount?: number;
  store?: StoreSummary;
  /** The requests a DELETE sent (the server kind's way: Orthanc deletes over its REST API). */
  deleteRequests?: RequestSpec[];
  /** Images to show: a rendered answer, or the first frames of a frames answer. */
  images?: AnswerImage[];
  /** The instance a `/frames/…` answer's frames belong to (its header decodes them). */
  frameInstance?: Required<InstancePath>;
  /** The server's Warning headers (PS3.18 §8.4.3), and how the request was fitted to it. */
  warnings: string[];
}

export interface RunOptions {
  /** The notebook's folder: relative `< file` and `@file` paths start there. */
  folder: string;
  signal?: AbortSignal;
  limits?: Partial<NotebookLimits>;
}

/** Sends a parsed cell and reads its answer; throws the client's typed errors. */
export async function runRequest(
  client: DicomWebClient,
  spec: RequestSpec,
  options: RunOptions,
): Promise<CellAnswer> {
  const limits = { ...NOTEBOOK_LIMITS, ...options.limits };
  const request = withResolvedFiles(spec, options.folder);
  const started = performance.now();
  const target = resourceOf(request.path);
  let answer: Omit<CellAnswer, 'ms' | 'request'>;
  if (
    request.method === 'POST' &&
    isFileBody(request) &&
    /^\/studies(\/[^/]+)?$/.test(request.path)
  ) {
    answer = await runStore(client, request, target?.studyInstanceUid, options.signal);
  } else if (request.method === 'DELETE' && target) {
    await client.deleteResource(target, { signal: options.signal });
    // The delete may be several requests (profiles/delete.ts): no one status to show.
    answer = {
      kind: 'delete',
      status: 0,
      bytes: 0,
      deleteRequests: client.deleteRequests(target),
      warnings: [],
    };
  } else if (
    isSinglePartInstance(request) &&
    !client.serverProfile.capabilities.singlePartRetrieve
  ) {
    answer = await runInstanceFile(client, target as Required<InstancePath>, options.signal);
  } else if (/^multipart\/related/i.test(request.headers.accept ?? '')) {
    answer = await runParts(client, request, limits, options.signal);
  } else {
    answer = await runWhole(client, request, limits, options.signal);
  }
  return { ...answer, request, ms: performance.now() - started };
}

function isFileBody(spec: RequestSpec): boolean {
  return spec.body?.kind === 'dicom-files' || spec.body?.kind === 'dicom-file';
}

function withResolvedFiles(spec: RequestSpec, folder: string): RequestSpec {
  const body = spec.body;
  if (body?.kind === 'dicom-files') {
    return {
      ...spec,
      body: { kind: 'dicom-files', files: body.files.map((file) => resolve(folder, file)) },
    };
  }
  if (body?.kind === 'dicom-file') {
    return { ...spec, body: { kind: 'dicom-file', file: resolve(folder, body.file) } };
  }
  return spec;
}

/** `/studies/{s}[/series/{se}[/instances/{i}]]` as the resource it names, else undefined. */
export function resourceOf(path: string): InstancePath | undefined {
  const match = /^\/studies\/([^/]+)(?:\/series\/([^/]+)(?:\/instances\/([^/]+))?)?$/.exec(path);
  if (!match) return undefined;
  return {
    studyInstanceUid: match[1],
    ...(match[2] ? { seriesInstanceUid: match[2] } : {}),
    ...(match[3] ? { sopInstanceUid: match[3] } : {}),
  };
}

async function runStore(
  client: DicomWebClient,
  spec: RequestSpec,
  studyInstanceUid: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Omit<CellAnswer, 'ms' | 'request'>> {
  const body = spec.body!;
  const files =
    body.kind === 'dicom-files' ? body.files : body.kind === 'dicom-file' ? [body.file] : [];
  // Azure's single-part form (the tutorial's `--data-binary`): one application/dicom body,
  // where the server takes it; elsewhere (Orthanc answers 415) the standard multipart form.
  const single = body.kind === 'dicom-file';
  const canSingle = client.serverProfile.capabilities.singlePartStow;
  const store = await client.storeInstances(files, {
    studyInstanceUid,
    mode: single && canSingle ? 'single' : 'multipart',
    signal,
  });
  const adapted =
    single && !canSingle
      ? [
          `This server (${client.serverProfile.kind}) does not take a single application/dicom body (an Azure form): sent as standard multipart/related STOW-RS.`,
        ]
      : [];
  const datasets = store.outcomes
    .filter(
      (outcome) =>
        outcome.status !== 'failed' && outcome.status !== 'skipped' && outcome.sopInstanceUid,
    )
    .map((outcome) =>
      uidRow(outcome.studyInstanceUid, outcome.seriesInstanceUid, outcome.sopInstanceUid),
    );
  const status =
    store.outcomes.find((outcome) => outcome.httpStatus !== undefined)?.httpStatus ?? 0;
  const sizes = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (info) => info.size,
        () => 0,
      ),
    ),
  );
  const bytes = sizes.reduce((sum, size) => sum + size, 0);
  return {
    kind: 'store',
    status,
    bytes,
    store,
    datasets,
    warnings: [...adapted, ...store.serverWarnings],
  };
}

function uidRow(study?: string, series?: string, instance?: string): DicomJsonDataset {
  const row: DicomJsonDataset = {};
  if (study) row[Tag.StudyInstanceUID] = { vr: 'UI', Value: [study] };
  if (series) row[Tag.SeriesInstanceUID] = { vr: 'UI', Value: [series] };
  if (instance) row[Tag.SOPInstanceUID] = { vr: 'UI', Value: [instance] };
  return row;
}

async function runParts(
  client: DicomWebClient,
  spec: RequestSpec,
  limits: NotebookLimits,
  signal: AbortSignal | undefined,
): Promise<Omit<CellAnswer, 'ms' | 'request'>> {
  const response = await client.send(spec, {
    signal,
    deadlineMs: limits.deadlineMs,
    minimumRate: client.transport.limits.minimumRate,
  });
  const parts: PartSummary[] = [];
  const frames = framesOf(spec.path);
  const images: AnswerImage[] = [];
  let kept = 0;
  let partCount = 0;
  let bytes = 0;
  for await (const part of partsOf(response, signal)) {
    const keepFrame = frames !== undefined && images.length < limits.shownFrames;
    const { summary, data } = await readPart(
      part,
      partCount < limits.listedParts ? limits.partIdentityBytes : 0,
      keepFrame ? limits.answerBytes - kept : 0,
    );
    if (keepFrame && data) {
      kept += data.length;
      images.push({
        mediaType: summary.mediaType,
        ...(summary.transferSyntaxUid ? { transferSyntaxUid: summary.transferSyntaxUid } : {}),
        frameNumber: frames.numbers[partCount] ?? partCount + 1,
        bytes: data,
      });
    }
    partCount++;
    bytes += summary.bytes;
    if (parts.length < limits.listedParts) parts.push(summary);
  }
  return {
    ...(frames ? { images, frameInstance: frames.instance } : {}),
    kind: 'parts',
    status: response.status,
    bytes,
    contentType: response.headers['content-type'],
    parts,
    partCount,
    warnings: warningsOf(response.headers),
  };
}

/** `GET /studies/…/instances/{i}` with `Accept: application/dicom` (an Azure form). */
function isSinglePartInstance(spec: RequestSpec): boolean {
  const target = resourceOf(spec.path);
  return (
    spec.method === 'GET' &&
    target?.sopInstanceUid !== undefined &&
    /^application\/dicom\s*(;|$)/i.test(spec.headers.accept ?? '')
  );
}

/** The instance through the client's own fallback: multipart where single-part is not served. */
async function runInstanceFile(
  client: DicomWebClient,
  target: Required<InstancePath>,
  signal: AbortSignal | undefined,
): Promise<Omit<CellAnswer, 'ms' | 'request'>> {
  const part = await client.retrieveInstanceFile(target, { signal });
  let bytes = 0;
  for await (const chunk of part.body) bytes += chunk.length;
  return {
    kind: 'bytes',
    // retrieveInstanceFile resolves only on a success; which 2xx is not passed up.
    status: 0,
    bytes,
    contentType: part.mediaType,
    warnings: [
      `This server (${client.serverProfile.kind}) does not answer Accept: application/dicom with a bare file (an Azure form): the instance was retrieved as one multipart/related part.`,
    ],
  };
}

/**
 * `/studies/{s}/series/{se}/instances/{i}/frames/{list}` (PS3.18 §10.4.1.1.3): the instance
 * and the frame numbers asked for, in the order the parts come back (§8.7.3.5.1).
 */
export function framesOf(
  path: string,
): { instance: Required<InstancePath>; numbers: number[] } | undefined {
  const match = /^(\/studies\/[^/]+\/series\/[^/]+\/instances\/[^/]+)\/frames\/([\d,\s]+)$/.exec(
    path,
  );
  const instance = match && resourceOf(match[1]);
  if (!instance) return undefined;
  const numbers = match[2].split(',').map((n) => Number(n.trim()));
  return { instance: instance as Required<InstancePath>, numbers };
}

/**
 * Reads one part: counts its bytes, keeps at most `identityBytes` of it to read its SOP
 * Instance UID, and the whole of it as `data` when it fits in `dataBytes` (a frame to draw).
 */
async function readPart(
  part: RetrievedPart,
  identityBytes: number,
  dataBytes: number,
): Promise<{ summary: PartSummary; data?: Uint8Array }> {
  const keepBytes = Math.max(identityBytes, dataBytes);
  const kept: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of part.body) {
    bytes += chunk.length;
    if (bytes <= keepBytes) kept.push(chunk);
  }
  const data = bytes <= dataBytes ? new Uint8Array(Buffer.concat(kept)) : undefined;
  return { summary: summaryOf(part, kept, bytes, identityBytes), ...(data ? { data } : {}) };
}

function summaryOf(
  part: RetrievedPart,
  kept: Uint8Array[],
  bytes: number,
  keepBytes: number,
): PartSummary {
  let sopInstanceUid: string | undefined;
  if (bytes <= keepBytes && part.mediaType === 'application/dicom') {
    try {
      sopInstanceUid = readInstanceIdentityAndDataSetFromBytes(Buffer.concat(kept)).identity
        .sopInstanceUid;
    } catch {
      // Not a readable Part 10 instance: the list says so by leaving the UID out.
    }
  }
  return {
    mediaType: part.mediaType,
    ...(part.transferSyntaxUid ? { transferSyntaxUid: part.transferSyntaxUid } : {}),
    bytes,
    ...(sopInstanceUid ? { sopInstanceUid } : {}),
    ...(part.contentLocation ? { contentLocation: part.contentLocation } : {}),
  };
}

async function runWhole(
  client: DicomWebClient,
  spec: RequestSpec,
  limits: NotebookLimits,
  signal: AbortSignal | undefined,
): Promise<Omit<CellAnswer, 'ms' | 'request'>> {
  if (spec.body && spec.body.kind !== 'text') {
    throw new DicomWebError(
      'INVALID_REQUEST',
      `A file body is only sent by POST /studies (STOW-RS); this is ${spec.method} ${spec.path}.`,
    );
  }
  const { response, bytes } = await client.transport.sendForBytes({
    method: spec.method,
    url: client.urlOf(spec),
    headers:
      spec.body?.kind === 'text'
        ? { 'content-type': spec.body.contentType, ...spec.headers }
        : spec.headers,
    ...(spec.body?.kind === 'text' ? { body: spec.body.text } : {}),
    signal,
    maxBodyBytes: limits.answerBytes,
    deadlineMs: limits.deadlineMs,
  });
  const contentType = response.headers['content-type'];
  const base = {
    status: response.status,
    bytes: bytes.length,
    contentType,
    warnings: warningsOf(response.headers),
  };
  const imageType = /^\s*(image\/(?:png|jpeg|gif))\s*(;|$)/i.exec(contentType ?? '')?.[1];
  if (imageType && bytes.length > 0) {
    // `/rendered` and `/thumbnail` (PS3.18 §10.4.1.1.4, §10.4.1.1.5): shown as they came.
    const image = { mediaType: imageType.toLowerCase(), bytes: new Uint8Array(bytes) };
    return { ...base, kind: 'bytes', images: [image] };
  }
  if (!/json/i.test(contentType ?? '') || bytes.length === 0) {
    return {
      ...base,
      kind: bytes.length === 0 && isSearch(spec) ? 'search' : 'bytes',
      ...(isSearch(spec) ? { datasets: [] } : {}),
    };
  }
  const json = parseJsonAnswer(bytes, spec);
  const datasets = Array.isArray(json) ? (json as DicomJsonDataset[]) : undefined;
  const kind: AnswerKind = spec.path.endsWith('/metadata')
    ? 'metadata'
    : isSearch(spec)
      ? 'search'
      : 'json';
  return { ...base, kind, json, ...(datasets ? { datasets } : {}) };
}

/** QIDO-RS: a GET whose path ends in studies, series or instances (PS3.18 §10.6). */
function isSearch(spec: RequestSpec): boolean {
  return spec.method === 'GET' && /\/(studies|series|instances)$/.test(spec.path);
}

function parseJsonAnswer(bytes: Buffer, spec: RequestSpec): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `${spec.method} ${spec.path} answered JSON that does not parse: ${(error as Error).message}`,
    );
  }
}
