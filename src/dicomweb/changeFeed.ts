/**
 * The Azure DICOM service's change feed, read by the client: `GET /changefeed` and
 * `GET /changefeed/latest` (Microsoft Learn, "Change feed overview"). Two paging schemes,
 * chosen by the API version of the service URL:
 *   - v1 (`…/v1`): `offset` is the exclusive starting *sequence*; a page holds the entries whose
 *     sequence is in (offset, offset + limit]; limit 1…100, default 10.
 *   - v2 and later: `startTime` (inclusive) and `endTime` (exclusive) pick a time window,
 *     `offset` skips that many entries of it; limit 1…200, default 100.
 * (Limits: microsoft/dicom-server `ChangeFeedController.GetLimit`.)
 * Answers are checked field by field: a malformed one is a typed `MALFORMED_RESPONSE` error
 * naming the entry and field, never a half-typed object.
 *
 * Plain Node: no `vscode` import.
 */
import type { DicomJsonDataset } from '../dicom/types';
import { parseJson } from './answers';
import type { RequestSpec } from './requests';
import type { DicomWebSession, RequestOptions } from './session';
import { partitionNameProblem } from './partitions';
import { DicomWebError } from './transport/errors';
import type { HttpResponse } from './transport/http';

export type ChangeFeedAction = 'create' | 'update' | 'delete';
export type ChangeFeedState = 'current' | 'replaced' | 'deleted';

/** One entry of the feed, typed. */
export interface ChangeFeedEntry {
  sequence: number;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  action: ChangeFeedAction;
  /** The service's text (`2020-03-04T01:03:08.4834Z`). */
  timestamp: string;
  /** `timestamp` in milliseconds since the epoch. */
  time: number;
  state: ChangeFeedState;
  /** The instance's current DICOM JSON, when asked for and the instance still exists. */
  metadata?: DicomJsonDataset;
  /** v2 with external storage only (Azure): where the instance's file is. */
  filePath?: string;
  /**
   * The data partition of the instance, when the service has partitions on: one feed for the
   * whole service, each entry naming its partition (dicom-server's ChangeFeedEntry).
   */
  partitionName?: string;
}

/** A page request. `startTime`/`endTime` need API v2 or later. */
export interface ChangeFeedQuery {
  offset?: number;
  limit?: number;
  /** Default true (the service's default): each entry carries its instance's metadata. */
  includeMetadata?: boolean;
  startTime?: Date;
  endTime?: Date;
}

/** Per API major version: the paging scheme and the service's limits. */
export const CHANGE_FEED_LIMITS = {
  1: { paging: 'sequence', defaultLimit: 10, maxLimit: 100 },
  2: { paging: 'window', defaultLimit: 100, maxLimit: 200 },
} as const;

/** 1 for a `…/v1` or `…/v1.0-prerelease` service URL, otherwise 2 (v2 and later page by time). */
export function changeFeedApiVersion(baseUrl: string): 1 | 2 {
  const match = /\/v(\d+)(?:\.\d+)?(?:-prerelease)?\/*$/.exec(baseUrl);
  return match && Number(match[1]) === 1 ? 1 : 2;
}

/** The request for a page, checked against the version's rules before it is sent. */
export function changeFeedRequest(query: ChangeFeedQuery, apiVersion: 1 | 2): RequestSpec {
  const limits = CHANGE_FEED_LIMITS[apiVersion];
  const params: Array<[string, string]> = [];
  if (query.offset !== undefined) {
    if (!Number.isSafeInteger(query.offset) || query.offset < 0 || query.offset > 2 ** 31 - 1)
      throw invalid(`offset must be an integer from 0 to 2147483647 (got ${query.offset})`);
    params.push(['offset', String(query.offset)]);
  }
  if (query.limit !== undefined) {
    if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > limits.maxLimit)
      throw invalid(`limit must be 1 to ${limits.maxLimit} for API v${apiVersion}`);
    params.push(['limit', String(query.limit)]);
  }
  if (query.startTime || query.endTime) {
    if (apiVersion === 1) throw invalid('a time window (startTime, endTime) needs API v2');
    for (const [name, date] of [
      ['startTime', query.startTime],
      ['endTime', query.endTime],
    ] as const) {
      if (date === undefined) continue;
      if (Number.isNaN(date.getTime())) throw invalid(`${name} is not a valid date`);
      params.push([name, date.toISOString()]);
    }
    if (query.startTime && query.endTime && query.startTime > query.endTime)
      throw invalid('startTime is later than endTime');
  }
  if (query.includeMetadata !== undefined)
    params.push(['includeMetadata', String(query.includeMetadata)]);
  return { method: 'GET', path: '/changefeed', query: params, headers: JSON_ACCEPT };
}

/** `GET /changefeed/latest`. */
export function changeFeedLatestRequest(includeMetadata?: boolean): RequestSpec {
  const query: Array<[string, string]> =
    includeMetadata === undefined ? [] : [['includeMetadata', String(includeMetadata)]];
  return { method: 'GET', path: '/changefeed/latest', query, headers: JSON_ACCEPT };
}

const JSON_ACCEPT = { accept: 'application/json' };

function invalid(message: string): DicomWebError {
  return new DicomWebError('INVALID_REQUEST', `change feed: ${message}`);
}

/** Reads one page. */
export async function readChangeFeed(
  session: DicomWebSession,
  query: ChangeFeedQuery,
  options: RequestOptions = {},
): Promise<ChangeFeedEntry[]> {
  const spec = changeFeedRequest(query, changeFeedApiVersion(session.baseUrl));
  const { response, bytes } = await session.sendForBytes(spec, 'json', options.signal);
  if (response.status === 204 || bytes.length === 0) return [];
  const body = parseJson(bytes, response.method, response.url);
  if (!Array.isArray(body)) throw malformed(response, 'expected a JSON array of entries');
  return body.map((item, n) => parseChangeFeedEntry(item, response, `entry ${n}`));
}

/** Reads the newest entry; undefined when the feed is empty (204, or `null`). */
export async function readChangeFeedLatest(
  session: DicomWebSession,
  options: RequestOptions & { includeMetadata?: boolean } = {},
): Promise<ChangeFeedEntry | undefined> {
  const spec = changeFeedLatestRequest(options.includeMetadata);
  const { response, bytes } = await session.sendForBytes(spec, 'json', options.signal);
  if (response.status === 204 || bytes.toString('utf8').trim() === '') return undefined;
  const body = parseJson(bytes, response.method, response.url);
  if (body === null) return undefined;
  return parseChangeFeedEntry(body, response, 'the latest entry');
}

const ACTIONS = new Set<string>(['create', 'update', 'delete']);
const STATES = new Set<string>(['current', 'replaced', 'deleted']);

/**
 * One entry, checked. Field names are read case-insensitively: the documentation writes
 * `StudyInstanceUid`, ASP.NET's default JSON policy would write `studyInstanceUid`.
 */
export function parseChangeFeedEntry(
  value: unknown,
  response: Pick<HttpResponse, 'method' | 'url' | 'status'>,
  where: string,
): ChangeFeedEntry {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw malformed(response, `${where} is not a JSON object`);
  const fields = new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
  const text = (name: string): string => {
    const v = fields.get(name.toLowerCase());
    if (typeof v !== 'string' || v === '' || v.length > 1024)
      throw malformed(response, `${where}: ${name} is not a string`);
    return v;
  };
  const sequence = fields.get('sequence');
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0)
    throw malformed(response, `${where}: Sequence is not a non-negative integer`);
  const action = text('Action').toLowerCase();
  if (!ACTIONS.has(action))
    throw malformed(response, `${where}: Action "${action.slice(0, 20)}" is unknown`);
  const state = text('State').toLowerCase();
  if (!STATES.has(state))
    throw malformed(response, `${where}: State "${state.slice(0, 20)}" is unknown`);
  const timestamp = text('Timestamp');
  const time = Date.parse(timestamp.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(time)) throw malformed(response, `${where}: Timestamp is not a date-time`);
  const entry: ChangeFeedEntry = {
    sequence,
    studyInstanceUid: text('StudyInstanceUid'),
    seriesInstanceUid: text('SeriesInstanceUid'),
    sopInstanceUid: text('SopInstanceUid'),
    action: action as ChangeFeedAction,
    timestamp,
    time,
    state: state as ChangeFeedState,
  };
  const metadata = fields.get('metadata');
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      throw malformed(response, `${where}: Metadata is not a DICOM JSON object`);
    entry.metadata = metadata as DicomJsonDataset;
  }
  const filePath = fields.get('filepath');
  if (typeof filePath === 'string') entry.filePath = filePath;
  const partition = fields.get('partitionname');
  if (partition !== undefined && partition !== null) {
    // It becomes part of a URL (forPartition): checked as the service checks names.
    const problem = typeof partition === 'string' ? partitionNameProblem(partition) : 'not text';
    if (problem) throw malformed(response, `${where}: PartitionName: ${problem}`);
    entry.partitionName = partition as string;
  }
  return entry;
}

function malformed(
  response: Pick<HttpResponse, 'method' | 'url' | 'status'>,
  why: string,
): DicomWebError {
  return new DicomWebError('MALFORMED_RESPONSE', `${response.method} ${response.url}: ${why}`, {
    method: response.method,
    url: response.url,
    status: response.status,
  });
}
