/**
 * QIDO-RS (PS3.18 §10.6): the six search forms, with the client-side filtering of values a
 * server cannot take as typed (clientMatch.ts), one page at a time or every page in turn.
 */
import type { DicomJsonDataset } from '../dicom/types';
import { Tag } from '../dicom/tags';
import { parseJsonArray, warningsOf } from './answers';
import {
  applyClientFilters,
  planQuery,
  rowMayBeLossy,
  withSourceValue,
  type ClientFilter,
} from './clientMatch';
import { searchRequest, type QidoLevel, type QidoQuery, type QidoScope } from './requests';
import { retrieveMetadata } from './retrieve';
import type { DicomWebSession, RequestOptions } from './session';

/**
 * Server pages one "Load more…" may read when the client filters them and they keep
 * nothing (a wide pattern sent for Orthanc, clientMatch.ts): 10 pages of the tree's 100 rows
 * is about a second on a local Orthanc; past it the row stays and the next click reads on.
 */
export const CLIENT_FILTER_MAX_PAGES = 10;

/** A page of QIDO results with what the server said besides them. */
export interface SearchResult {
  items: DicomJsonDataset[];
  /** `Warning` header texts (PS3.18 §8.6.2): more results exist, a parameter was ignored … */
  warnings: string[];
  status: number;
  /**
   * Rows the server sent, when the client filtered them (a value the server could not take
   * as typed, clientMatch.ts): the next page starts this many rows on, not `items.length`.
   */
  scanned?: number;
}

export interface SearchPage extends SearchResult {
  offset: number;
  limit: number;
  /** Whether another page may follow. */
  hasMore: boolean;
}

export interface PagingOptions {
  /** Page size asked of the server; capped by the profile's maxLimit. */
  pageSize?: number;
  /** Stop after this many results in total. */
  maxResults?: number;
  signal?: AbortSignal;
}

const LEVEL_UID: Record<QidoLevel, string> = {
  studies: Tag.StudyInstanceUID,
  series: Tag.SeriesInstanceUID,
  instances: Tag.SOPInstanceUID,
};

/**
 * Any of the six QIDO forms. 204, an empty body and `[]` all mean no match. A matching value
 * the profile's server cannot take as typed (Orthanc: a space, a non-ASCII letter) is sent
 * as a wider pattern and the answer filtered exactly here (clientMatch.ts); `scanned` then
 * counts the rows the server sent, `items` those that match.
 */
export async function search(
  session: DicomWebSession,
  level: QidoLevel,
  scope: QidoScope,
  query: QidoQuery,
  options: RequestOptions = {},
): Promise<SearchResult> {
  const { sent, filters } = planQuery(query, session.serverProfile.capabilities.decodesQueryValues);
  const result = await searchAsSent(session, level, scope, sent, options);
  if (filters.length === 0) return result;
  const judged = await withSourceValues(session, result.items, filters, options);
  return { ...result, items: applyClientFilters(judged, filters), scanned: result.items.length };
}

/** One QIDO request exactly as given, its answer read whole (under the JSON cap). */
async function searchAsSent(
  session: DicomWebSession,
  level: QidoLevel,
  scope: QidoScope,
  query: QidoQuery,
  options: RequestOptions,
): Promise<SearchResult> {
  const spec = searchRequest(level, scope, query);
  const { response, bytes } = await session.sendForBytes(spec, 'json', options.signal);
  return {
    items: parseJsonArray(bytes, response),
    warnings: warningsOf(response.headers),
    status: response.status,
  };
}

/**
 * Rows whose copy of a filtered attribute may have lost characters (clientMatch.ts
 * {@link rowMayBeLossy}: Orthanc's Latin-1 index holds `^` for a CJK name) get the value
 * of their first instance's metadata, read from the stored file: two small requests a
 * row, for rows of one page only (the tree's 100 at most).
 */
async function withSourceValues(
  session: DicomWebSession,
  items: DicomJsonDataset[],
  filters: readonly ClientFilter[],
  options: RequestOptions,
): Promise<DicomJsonDataset[]> {
  const out: DicomJsonDataset[] = [];
  for (const item of items) {
    const lossy = filters.filter((filter) => rowMayBeLossy(item, filter));
    const source = lossy.length
      ? await firstInstanceMetadata(session, item, options).catch(() => undefined)
      : undefined;
    out.push(
      source ? lossy.reduce((row, filter) => withSourceValue(row, source, filter), item) : item,
    );
  }
  return out;
}

/** The metadata of the first instance under a QIDO row (study, series or instance). */
async function firstInstanceMetadata(
  session: DicomWebSession,
  row: DicomJsonDataset,
  options: RequestOptions,
): Promise<DicomJsonDataset | undefined> {
  const studyInstanceUid = uidOf(row, Tag.StudyInstanceUID);
  if (!studyInstanceUid) return undefined;
  let seriesInstanceUid = uidOf(row, Tag.SeriesInstanceUID);
  let sopInstanceUid = uidOf(row, Tag.SOPInstanceUID);
  if (!seriesInstanceUid || !sopInstanceUid) {
    const scope = seriesInstanceUid
      ? { studyInstanceUid, seriesInstanceUid }
      : { studyInstanceUid };
    const [first] = (
      await searchAsSent(
        session,
        'instances',
        scope,
        { limit: 1, includeField: [Tag.SeriesInstanceUID, Tag.SOPInstanceUID] },
        options,
      )
    ).items;
    if (!first) return undefined;
    seriesInstanceUid = (first[Tag.SeriesInstanceUID] as { Value?: unknown[] } | undefined)
      ?.Value?.[0] as string | undefined;
    sopInstanceUid = (first[Tag.SOPInstanceUID] as { Value?: unknown[] } | undefined)
      ?.Value?.[0] as string | undefined;
    if (!seriesInstanceUid || !sopInstanceUid) return undefined;
  }
  const [metadata] = await retrieveMetadata(
    session,
    { studyInstanceUid, seriesInstanceUid, sopInstanceUid },
    options,
  );
  return metadata;
}

/**
 * One page of results at `offset`. `hasMore` is true when the page came back full (or the
 * server's Warning says more exist); the last page is the first that comes back short.
 */
export async function searchPage(
  session: DicomWebSession,
  level: QidoLevel,
  scope: QidoScope,
  query: QidoQuery,
  offset: number,
  pageSize = 100,
  options: RequestOptions = {},
): Promise<SearchPage> {
  const limit = pageLimit(session, pageSize);
  const pageAt = (at: number): Promise<SearchPage> =>
    onePage(session, level, scope, query, at, limit, options);
  let page = await pageAt(offset);
  // A page filtered on the client may keep nothing while the server has more: read on, a
  // bounded number of pages, so "Load more…" does not show an empty page.
  for (
    let extra = 1;
    page.items.length === 0 && page.hasMore && extra < CLIENT_FILTER_MAX_PAGES;
    extra++
  ) {
    const next = await pageAt(offset + page.scanned!);
    page = {
      ...next,
      offset,
      scanned: page.scanned! + next.scanned!,
      warnings: [...new Set([...page.warnings, ...next.warnings])],
    };
  }
  return page;
}

/** One request of {@link searchPage}; `scanned` is always set (rows the server sent). */
async function onePage(
  session: DicomWebSession,
  level: QidoLevel,
  scope: QidoScope,
  query: QidoQuery,
  offset: number,
  limit: number,
  options: RequestOptions,
): Promise<SearchPage> {
  const result = await search(session, level, scope, { ...query, limit, offset }, options);
  const scanned = result.scanned ?? result.items.length;
  const moreWarned = result.warnings.some((warning) =>
    /additional results|more results/i.test(warning),
  );
  return {
    ...result,
    scanned,
    offset,
    limit,
    hasMore:
      session.serverProfile.capabilities.honoursOffset &&
      (scanned >= limit || moreWarned) &&
      scanned > 0,
  };
}

/**
 * Every result, page by page. Copes with servers that ignore `offset` (the first record of
 * a later page repeats the first page's: stop, like Slicer's browser), that repeat records
 * across pages (Azure: de-duplicated by UID), and that answer 204 past the end.
 */
export async function* searchAll(
  session: DicomWebSession,
  level: QidoLevel,
  scope: QidoScope,
  query: QidoQuery = {},
  paging: PagingOptions = {},
): AsyncGenerator<SearchPage> {
  const seen = new Set<string>();
  const uidTag = LEVEL_UID[level];
  let firstKey: string | undefined;
  let offset = query.offset ?? 0;
  let delivered = 0;
  for (;;) {
    const page = await searchPage(session, level, scope, query, offset, paging.pageSize ?? 100, {
      signal: paging.signal,
    });
    const keys = page.items.map((item) => uidOf(item, uidTag));
    if (firstKey === undefined) {
      firstKey = keys[0];
    } else if (keys.length > 0 && keys[0] !== undefined && keys[0] === firstKey) {
      page.warnings.push(
        'The server ignored the offset parameter; paging stopped after the first page.',
      );
      yield { ...page, items: [], hasMore: false };
      return;
    }
    const fresh = page.items.filter((_item, index) => {
      const key = keys[index];
      if (key === undefined) return true;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    offset += page.scanned ?? page.items.length;
    let items = fresh;
    if (paging.maxResults !== undefined && delivered + items.length >= paging.maxResults) {
      items = items.slice(0, paging.maxResults - delivered);
      yield { ...page, items, hasMore: false };
      return;
    }
    delivered += items.length;
    yield { ...page, items };
    if (!page.hasMore) return;
  }
}

/** The page size asked for, within the server's cap (Azure 200, Google 5000). */
function pageLimit(session: DicomWebSession, pageSize: number): number {
  const max = session.serverProfile.capabilities.maxLimit;
  return Math.max(1, max !== undefined ? Math.min(pageSize, max) : pageSize);
}

function uidOf(item: DicomJsonDataset, tag: string): string | undefined {
  const value = item[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}
