/**
 * The Azure DICOM service's extended query tags and its long-running operations ("Extended
 * query tags overview", "Get operation status" on learn.microsoft.com), served by Azure and
 * by the local server: typed calls for `/extendedquerytags…` and `/operations/{id}`, and
 * {@link waitForAzureOperation}, which polls an operation with backoff until it ends.
 *
 * Azure writes tag entries in PascalCase (`Path`, `VR`, `QueryStatus`) and operations in
 * camelCase (`operationId`, `percentComplete`); both are read whatever their case. API v1
 * says `completed` where v2 says `succeeded`: both read as `succeeded`.
 */
import { parseJson } from './answers';
import { DEFAULT_OPERATION_POLLING, type OperationPolling } from './profiles/operations';
import type { RequestSpec } from './requests';
import type { DicomWebSession, RequestOptions } from './session';
import { DicomWebError } from './transport/errors';
import { sleep } from './transport/http';

export type ExtendedQueryTagLevel = 'Study' | 'Series' | 'Instance';

/** One extended query tag as the server lists it. */
export interface ExtendedQueryTag {
  /** 8 hex digits, `00101010`. */
  path: string;
  vr: string;
  level: ExtendedQueryTagLevel | string;
  privateCreator?: string;
  /** `Adding`, `Ready` or `Deleting`. */
  status: string;
  /** `Enabled` or `Disabled`: whether QIDO may use it. */
  queryStatus: string;
  errorCount: number;
  errorsHref?: string;
  /** The operation that added it, when the server says. */
  operation?: OperationReference;
}

/** An instance whose value did not fit the tag's VR. */
export interface ExtendedQueryTagError {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  createdTime: string;
  errorMessage: string;
}

/** A tag to add: the keyword or `gggg eeee` hex, its level, and VR/creator when needed. */
export interface ExtendedQueryTagToAdd {
  path: string;
  level: ExtendedQueryTagLevel;
  vr?: string;
  privateCreator?: string;
}

/** What a request that starts an operation answers (202). */
export interface OperationReference {
  id: string;
  href: string;
}

export type OperationStatus =
  'notStarted' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'unknown';

/** `GET /operations/{id}`. */
export interface OperationState {
  operationId: string;
  type: string;
  createdTime?: string;
  lastUpdatedTime?: string;
  status: OperationStatus;
  /** 0–100. */
  percentComplete: number;
  /** URLs of the resources it works on (the tags of a reindex). */
  resources: string[];
}

export interface PageOptions {
  offset?: number;
  /** 1–200 (Azure); default the server's (100). */
  limit?: number;
}

const TAG_PATH = /^(?:[0-9A-Fa-f]{8}|[A-Za-z][A-Za-z0-9]{0,63})$/;
const OPERATION_ID = /^[0-9A-Fa-f-]{32,36}$/;

function tagPath(path: string): string {
  if (typeof path !== 'string' || !TAG_PATH.test(path))
    throw new DicomWebError('INVALID_REQUEST', `"${String(path).slice(0, 70)}" is not a tag path`);
  return path;
}

function pageQuery(page: PageOptions): Array<[string, string]> {
  const query: Array<[string, string]> = [];
  if (page.offset !== undefined) query.push(['offset', String(page.offset)]);
  if (page.limit !== undefined) query.push(['limit', String(page.limit)]);
  return query;
}

/** A property whatever its case (`Path`, `path`). */
function prop(record: unknown, name: string): unknown {
  if (!record || typeof record !== 'object') return undefined;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (record as Record<string, unknown>)[key];
}

function text(record: unknown, name: string): string {
  const value = prop(record, name);
  return typeof value === 'string'
    ? value
    : value === undefined || value === null
      ? ''
      : String(value);
}

async function sendJsonRequest(
  session: DicomWebSession,
  spec: RequestSpec | (Omit<RequestSpec, 'method'> & { method: 'PATCH' }),
  body: unknown,
  options: RequestOptions,
): Promise<{ status: number; headers: Record<string, string>; value: unknown }> {
  const url = session.urlOf(spec as RequestSpec);
  const { response, bytes } = await session.transport.sendForBytes({
    method: spec.method,
    url,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: options.signal,
    ...session.inMemory('json'),
  });
  const value = bytes.length ? parseJson(bytes, spec.method, url) : undefined;
  return { status: response.status, headers: response.headers, value };
}

function asTag(value: unknown): ExtendedQueryTag {
  const errors = prop(value, 'Errors');
  const operation = prop(value, 'Operation');
  const creator = text(value, 'PrivateCreator');
  const count = Number(prop(errors, 'Count') ?? prop(value, 'ErrorCount') ?? 0);
  return {
    path: text(value, 'Path'),
    vr: text(value, 'VR'),
    level: text(value, 'Level'),
    ...(creator ? { privateCreator: creator } : {}),
    status: text(value, 'Status'),
    queryStatus: text(value, 'QueryStatus') || 'Enabled',
    errorCount: Number.isFinite(count) ? count : 0,
    ...(errors ? { errorsHref: text(errors, 'Href') } : {}),
    ...(operation ? { operation: asReference(operation) } : {}),
  };
}

function asReference(value: unknown): OperationReference {
  const id = text(value, 'id');
  const href = text(value, 'href');
  if (!OPERATION_ID.test(id))
    throw new DicomWebError('MALFORMED_RESPONSE', 'the answer does not name an operation id');
  return { id, href };
}

function asArray(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new DicomWebError('MALFORMED_RESPONSE', `${what} is not a JSON array`);
  return value;
}

/** `GET /extendedquerytags` */
export async function listExtendedQueryTags(
  session: DicomWebSession,
  page: PageOptions = {},
  options: RequestOptions = {},
): Promise<ExtendedQueryTag[]> {
  const spec: RequestSpec = {
    method: 'GET',
    path: '/extendedquerytags',
    query: pageQuery(page),
    headers: {},
  };
  const { value } = await sendJsonRequest(session, spec, undefined, options);
  return asArray(value, 'the tag list').map(asTag);
}

/** `GET /extendedquerytags/{tagPath}` */
export async function getExtendedQueryTag(
  session: DicomWebSession,
  path: string,
  options: RequestOptions = {},
): Promise<ExtendedQueryTag> {
  const spec: RequestSpec = {
    method: 'GET',
    path: `/extendedquerytags/${tagPath(path)}`,
    headers: {},
  };
  return asTag((await sendJsonRequest(session, spec, undefined, options)).value);
}

/** `POST /extendedquerytags`: adds the tags and answers the reindex operation (202). */
export async function addExtendedQueryTags(
  session: DicomWebSession,
  tags: ReadonlyArray<ExtendedQueryTagToAdd>,
  options: RequestOptions = {},
): Promise<OperationReference> {
  const body = tags.map((tag) => ({
    Path: tagPath(tag.path),
    ...(tag.vr ? { VR: tag.vr } : {}),
    ...(tag.privateCreator ? { PrivateCreator: tag.privateCreator } : {}),
    Level: tag.level,
  }));
  const spec: RequestSpec = { method: 'POST', path: '/extendedquerytags', headers: {} };
  return asReference((await sendJsonRequest(session, spec, body, options)).value);
}

/** `DELETE /extendedquerytags/{tagPath}` */
export async function deleteExtendedQueryTag(
  session: DicomWebSession,
  path: string,
  options: RequestOptions = {},
): Promise<void> {
  const spec: RequestSpec = {
    method: 'DELETE',
    path: `/extendedquerytags/${tagPath(path)}`,
    headers: {},
  };
  await sendJsonRequest(session, spec, undefined, options);
}

/** `PATCH /extendedquerytags/{tagPath}` with `{"QueryStatus": …}`. */
export async function updateExtendedQueryTag(
  session: DicomWebSession,
  path: string,
  change: { queryStatus: 'Enabled' | 'Disabled' },
  options: RequestOptions = {},
): Promise<ExtendedQueryTag> {
  const spec = {
    method: 'PATCH' as const,
    path: `/extendedquerytags/${tagPath(path)}`,
    headers: {},
  };
  const { value } = await sendJsonRequest(
    session,
    spec,
    { QueryStatus: change.queryStatus },
    options,
  );
  return asTag(value);
}

/** `GET /extendedquerytags/{tagPath}/errors` */
export async function listExtendedQueryTagErrors(
  session: DicomWebSession,
  path: string,
  page: PageOptions = {},
  options: RequestOptions = {},
): Promise<ExtendedQueryTagError[]> {
  const spec: RequestSpec = {
    method: 'GET',
    path: `/extendedquerytags/${tagPath(path)}/errors`,
    query: pageQuery(page),
    headers: {},
  };
  const { value } = await sendJsonRequest(session, spec, undefined, options);
  return asArray(value, 'the error list').map((entry) => ({
    studyInstanceUid: text(entry, 'StudyInstanceUid'),
    seriesInstanceUid: text(entry, 'SeriesInstanceUid'),
    sopInstanceUid: text(entry, 'SopInstanceUid'),
    createdTime: text(entry, 'CreatedTime'),
    errorMessage: text(entry, 'ErrorMessage'),
  }));
}

const STATUSES: Record<string, OperationStatus> = {
  notstarted: 'notStarted',
  running: 'running',
  succeeded: 'succeeded',
  completed: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
  cancelled: 'canceled',
};

/** `GET /operations/{id}` (202 while it runs, 200 once it ended). */
export async function getOperation(
  session: DicomWebSession,
  id: string,
  options: RequestOptions = {},
): Promise<OperationState> {
  if (typeof id !== 'string' || !OPERATION_ID.test(id))
    throw new DicomWebError(
      'INVALID_REQUEST',
      `"${String(id).slice(0, 40)}" is not an operation id`,
    );
  const spec: RequestSpec = { method: 'GET', path: `/operations/${id}`, headers: {} };
  const { value } = await sendJsonRequest(session, spec, undefined, options);
  const percent = Number(prop(value, 'percentComplete') ?? 0);
  const resources = prop(value, 'resources');
  return {
    operationId: text(value, 'operationId') || id,
    type: text(value, 'type'),
    createdTime: text(value, 'createdTime') || undefined,
    lastUpdatedTime: text(value, 'lastUpdatedTime') || undefined,
    status: STATUSES[text(value, 'status').toLowerCase()] ?? 'unknown',
    percentComplete: Number.isFinite(percent) ? Math.max(0, Math.min(100, percent)) : 0,
    resources: Array.isArray(resources)
      ? resources.filter((r): r is string => typeof r === 'string')
      : [],
  };
}

export function isOperationEnded(status: OperationStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled';
}

export interface WaitForOperationOptions extends RequestOptions {
  /** Called with each state read, the last one included. */
  onProgress?: (state: OperationState) => void;
  polling?: Partial<OperationPolling>;
}

/**
 * Polls `GET /operations/{id}` until the operation ends, waiting `firstDelayMs` and then
 * half as long again each time up to `maxDelayMs`; gives up (TIMEOUT) after `timeoutMs`, and
 * stops at once (CANCELLED) when `signal` fires. Resolves with the last state, whatever its
 * end: a failed or canceled operation is the caller's to report.
 */
export async function waitForAzureOperation(
  session: DicomWebSession,
  id: string,
  options: WaitForOperationOptions = {},
): Promise<OperationState> {
  const polling = { ...DEFAULT_OPERATION_POLLING, ...session.operationPolling, ...options.polling };
  const deadline = performance.now() + polling.timeoutMs;
  let delay = polling.firstDelayMs;
  for (;;) {
    const state = await getOperation(session, id, options);
    options.onProgress?.(state);
    if (isOperationEnded(state.status)) return state;
    if (performance.now() + delay > deadline) {
      throw new DicomWebError(
        'TIMEOUT',
        `operation ${id} is still ${state.status} (${state.percentComplete}%) after ${Math.round(polling.timeoutMs / 1000)} s`,
      );
    }
    await sleep(delay, options.signal);
    delay = Math.min(polling.maxDelayMs, Math.ceil(delay * 1.5));
  }
}
