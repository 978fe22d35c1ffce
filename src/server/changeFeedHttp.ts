/**
 * `GET /changefeed` and `GET /changefeed/latest`: the Azure DICOM service's parameters,
 * defaults, limits and JSON fields (Microsoft Learn, "Change feed overview"; the limits are
 * microsoft/dicom-server `ChangeFeedController.GetLimit`: v1 default 10 and at most 100, v2
 * default 100 and at most 200; `offset` 0…2^31−1, `limit` at least 1; outside → 400).
 *   - v1 pages by sequence: `offset` is the exclusive starting sequence, and the page holds the
 *     entries with a sequence in (offset, offset + limit] (so fewer than `limit` over gaps).
 *   - v2 pages over a time window: `startTime` (inclusive) and `endTime` (exclusive), ISO 8601,
 *     then skips `offset` entries of the window and returns at most `limit`.
 *   - `includeMetadata` (default true) adds the instance's current DICOM JSON as `Metadata`
 *     unless the entry's state is `deleted` (Azure's ChangeFeedService.PopulateMetadata).
 *   - `/latest` answers the newest entry, or 204 when the feed is empty (ASP.NET Core answers
 *     a null result with 204 No Content).
 *
 * Plain Node: no `vscode` import.
 */
import type { ServerResponse } from 'node:http';
import { dataSetToJson } from '../dicom/dataSetJson';
import type { Catalog, InstanceNode } from './catalog';
import type { ChangeFeed, FeedEntry } from './changeFeed';
import { readInstanceHeader } from './dicomFiles';
import { HttpError, parseQuery } from './httpUtil';
import { storedFile } from './jail';
import { DEFAULT_PARTITION } from './partitions';

const INT32_MAX = 2 ** 31 - 1;
/** Azure's limits per API version (ChangeFeedController.GetLimit). */
const LIMITS = {
  v1: { defaultLimit: 10, maxLimit: 100 },
  v2: { defaultLimit: 100, maxLimit: 200 },
};

export interface ChangeFeedRequest {
  method: string;
  /** Path segments after `changefeed` (`[]` or `['latest']`). */
  rest: string[];
  search: string;
  apiVersion: number;
}

/** Where an entry's instance is served: its store's index and folder, and its URLs. */
export interface FeedPlace {
  catalog: Catalog;
  dir: string;
  bulkDataUri: (node: InstanceNode, path: string[]) => string;
}

export interface ChangeFeedSources {
  feed: ChangeFeed;
  /** Data partitions are on: each entry names its partition (`PartitionName`). */
  partitioned: boolean;
  /** The entry's place (its partition's), or undefined when that is gone. */
  placeOf: (entry: FeedEntry) => Promise<FeedPlace | undefined>;
}

/** Answers one change-feed request. */
export async function handleChangeFeed(
  res: ServerResponse,
  request: ChangeFeedRequest,
  sources: ChangeFeedSources,
): Promise<void> {
  if (request.rest.length > 1 || (request.rest.length === 1 && request.rest[0] !== 'latest'))
    throw new HttpError(404, `resource /changefeed/${request.rest.join('/')} not found`);
  if (request.method !== 'GET')
    throw new HttpError(405, `${request.method} is not allowed here`, { allow: 'GET' });
  const query = new Map(parseQuery(request.search).map(([k, v]) => [k.toLowerCase(), v]));
  const includeMetadata = parseBoolean(query.get('includemetadata'), 'includeMetadata', true);
  const { feed } = sources;
  if (request.rest[0] === 'latest') {
    const entry = feed.latest();
    if (!entry) {
      res.writeHead(204);
      res.end();
      return;
    }
    const [json] = await entriesToJson([entry], includeMetadata, sources);
    sendText(res, json!);
    return;
  }
  const page = readPage(feed, query, request.apiVersion);
  sendText(res, `[${(await entriesToJson(page, includeMetadata, sources)).join(',')}]`);
}

/** The entries a query names, v1 by sequence, v2 by time window. */
function readPage(feed: ChangeFeed, query: Map<string, string>, apiVersion: number): FeedEntry[] {
  const { defaultLimit, maxLimit } = apiVersion <= 1 ? LIMITS.v1 : LIMITS.v2;
  const offset = parseInteger(query.get('offset'), 'offset', 0, 0, INT32_MAX);
  const limit = parseInteger(query.get('limit'), 'limit', defaultLimit, 1, maxLimit);
  if (apiVersion <= 1) return feed.bySequence(offset, limit);
  const start = parseTime(query.get('starttime'), 'startTime', -Infinity);
  const end = parseTime(query.get('endtime'), 'endTime', Infinity);
  if (start > end)
    throw new HttpError(400, 'startTime must not be later than endTime (the window is empty)');
  return feed.byTime(start, end, offset, limit);
}

function parseInteger(
  text: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = /^[+]?\d{1,12}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new HttpError(400, `The ${name} must be an integer between ${min} and ${max}.`);
  return value;
}

function parseBoolean(text: string | undefined, name: string, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new HttpError(400, `The ${name} must be true or false.`);
}

/**
 * ISO 8601 date or date-time; without an offset it is UTC (the service runs on UTC). Anything
 * else is 400, never a guess (Date.parse alone accepts "March 3").
 */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseTime(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const trimmed = text.trim();
  if (!ISO_8601.test(trimmed))
    throw new HttpError(400, `The ${name} "${trimmed.slice(0, 40)}" is not an ISO 8601 date-time.`);
  const withZone =
    trimmed.length > 10 && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) ? `${trimmed}Z` : trimmed;
  // More than milliseconds: the local server keeps milliseconds (Azure keeps 100 ns ticks).
  const value = Date.parse(withZone.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(value))
    throw new HttpError(400, `The ${name} "${trimmed.slice(0, 40)}" is not a valid date-time.`);
  return value;
}

function sendText(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The Azure JSON of each entry (field names as the service writes them), as text: metadata is
 * kept serialized (see the cache below), so a page is joined, not serialized again.
 */
async function entriesToJson(
  entries: FeedEntry[],
  includeMetadata: boolean,
  sources: ChangeFeedSources,
): Promise<string[]> {
  const out = entries.map((entry) =>
    JSON.stringify({
      Sequence: entry.sequence,
      // dicom-server's ChangeFeedEntry names the partition; Microsoft.Default for an entry
      // recorded before partitions were turned on.
      ...(sources.partitioned ? { PartitionName: entry.partition ?? DEFAULT_PARTITION } : {}),
      StudyInstanceUid: entry.studyUid,
      SeriesInstanceUid: entry.seriesUid,
      SopInstanceUid: entry.sopUid,
      Action: entry.action,
      Timestamp: new Date(entry.time).toISOString(),
      State: sources.feed.stateOf(entry),
    }),
  );
  if (!includeMetadata) return out;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const index = next++;
      const entry = entries[index]!;
      if (sources.feed.stateOf(entry) === 'deleted') continue;
      const metadata = await currentMetadata(entry, sources);
      if (metadata) out[index] = `${out[index]!.slice(0, -1)},"Metadata":${metadata}}`;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, entries.length) }, worker));
  return out;
}

/**
 * Metadata answered recently, per feed: a follower reads the same newest page again and again,
 * and Azure serves metadata precomputed at store time. Keyed by the file's path, size and
 * modification time (a replaced file is read again) and the URL prefix its BulkDataURIs carry.
 */
const METADATA_CACHE_ENTRIES = 1000;
const metadataCaches = new WeakMap<ChangeFeed, Map<string, string>>();

/** The instance's current metadata (DICOM JSON text), or undefined when it is no longer served. */
async function currentMetadata(
  entry: FeedEntry,
  sources: ChangeFeedSources,
): Promise<string | undefined> {
  const place = await sources.placeOf(entry);
  const [node] = place?.catalog.resolve(entry.studyUid, entry.seriesUid, entry.sopUid) ?? [];
  if (!place || !node) return undefined;
  let cache = metadataCaches.get(sources.feed);
  if (!cache) metadataCaches.set(sources.feed, (cache = new Map()));
  const key = `${place.dir}\0${node.file}\0${node.size}\0${node.mtimeMs}\0${place.bulkDataUri(node, [])}`;
  const cached = cache.get(key);
  if (cached) {
    // Least recently used first: a hit moves to the end.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  try {
    const header = await readInstanceHeader(storedFile(place.dir, node.file));
    const json = JSON.stringify(
      dataSetToJson(header.dataSet, { bulkDataUri: (path) => place.bulkDataUri(node, path) }),
    );
    cache.set(key, json);
    if (cache.size > METADATA_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return json;
  } catch {
    // Removed by hand meanwhile: the entry is answered without it rather than failing the page.
    return undefined;
  }
}
