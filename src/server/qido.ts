/**
 * QIDO-RS (PS3.18 §10.6) over the in-memory index: the six resource forms, the matching of
 * PS3.4 §C.2.2.2 (single value, wildcards `*` `?`, ranges, UID lists, universal), fuzzy person
 * names, includefield, limit/offset with the Azure DICOM service's bounds.
 *
 * Plain Node: no `vscode` import.
 */
import { lookupTag, resolveTag } from '../dicom/dictionary';
import {
  FIELDS,
  FIELD_BY_KEYWORD,
  FIELD_BY_TAG,
  levelAtMost,
  type Catalog,
  type FieldSpec,
  type InstanceNode,
  type Level,
  type SeriesNode,
  type StudyNode,
} from './catalog';
import { dataSetToJson, jsonValue, type JsonDataset } from '../dicom/dataSetJson';
import { readInstanceHeader } from './dicomFiles';
import { HttpError } from './httpUtil';
import { storedFile } from './jail';
import { QIDO_MAX_PATTERN_LENGTH, compileWildcard, wildcardMatches } from '../dicom/wildcard';
import { Tag } from '../dicom/tags';

/** Azure DICOM service conformance statement: limit 1–200, default 100. */
export const QIDO_DEFAULT_LIMIT = 100;
export const QIDO_MAX_LIMIT = 200;

/** The parsed search. */
export interface QidoSearch {
  level: Level;
  studyUid?: string;
  seriesUid?: string;
  filters: Array<{ field: FieldSpec; test: (raw: string | undefined) => boolean }>;
  /** Fields the answer carries besides the defaults (matching keys, includefield). */
  extraFields: Set<FieldSpec>;
  /** includefield tags the index does not hold: read from a file of each result. */
  fileTags: Set<string>;
  includeAll: boolean;
  limit: number;
  offset: number;
}

type Node = StudyNode | SeriesNode | InstanceNode;

/**
 * Parses the query of a search. Unknown attributes, bad limits and sequence paths are
 * refused with 400, as the Azure DICOM service does (its conformance statement lists the
 * searchable attributes); `includefield` accepts any dictionary keyword or tag.
 */
export function parseSearch(
  level: Level,
  scope: { studyUid?: string; seriesUid?: string },
  query: Array<[string, string]>,
  /** Ready, enabled extended query tags by path and keyword (extendedQueryTagService.ts). */
  extended?: ReadonlyMap<string, FieldSpec>,
): QidoSearch {
  const search: QidoSearch = {
    level,
    ...scope,
    filters: [],
    extraFields: new Set(),
    fileTags: new Set(),
    includeAll: false,
    limit: QIDO_DEFAULT_LIMIT,
    offset: 0,
  };
  let fuzzy = false;
  const matches: Array<[FieldSpec, string]> = [];
  for (const [key, value] of query) {
    const lower = key.toLowerCase();
    if (lower === 'limit') {
      search.limit = integerParam(key, value, 1, QIDO_MAX_LIMIT);
    } else if (lower === 'offset') {
      search.offset = integerParam(key, value, 0, Number.MAX_SAFE_INTEGER);
    } else if (lower === 'fuzzymatching') {
      if (!/^(true|false)$/i.test(value))
        throw new HttpError(400, `fuzzymatching must be true or false, not "${value}"`);
      fuzzy = value.toLowerCase() === 'true';
    } else if (lower === 'includefield') {
      // PS3.18 §8.3.4.3: a comma list or repeated; "all" stands alone.
      for (const item of value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)) {
        if (item.toLowerCase() === 'all') {
          search.includeAll = true;
          continue;
        }
        const tag = resolveTag(item);
        if (!tag || (!FIELD_BY_TAG.has(tag) && !lookupTag(tag)))
          throw new HttpError(400, `includefield: unknown attribute "${item}"`);
        const field = FIELD_BY_TAG.get(tag);
        if (field && levelAtMost(field.level, level)) search.extraFields.add(field);
        else if (!field) search.fileTags.add(tag);
      }
    } else {
      const field = fieldFor(key) ?? extendedFieldFor(extended, key);
      if (!field) {
        throw new HttpError(
          400,
          `"${key}" is not a supported search attribute; supported: ${supportedAt(level).join(', ')}`,
        );
      }
      if (!levelAtMost(field.level, level)) {
        throw new HttpError(
          400,
          `"${key}" is a ${field.level}-level attribute and cannot be used in a ${level} search`,
        );
      }
      // Bounded before any matching (issue 10: a long pattern costs every value it is tried on).
      if (field.vr !== 'UI' && value.length > QIDO_MAX_PATTERN_LENGTH) {
        throw new HttpError(
          400,
          `the value of ${key} is ${value.length} characters; at most ${QIDO_MAX_PATTERN_LENGTH} are accepted (PS3.5 §6.2: values of this attribute are far shorter)`,
        );
      }
      matches.push([field, value]);
    }
  }
  for (const [field, value] of matches) {
    search.extraFields.add(field);
    search.filters.push({ field, test: matcher(field, value, fuzzy) });
  }
  return search;
}

function integerParam(key: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value))
    throw new HttpError(400, `${key} must be a whole number, not "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new HttpError(400, `${key} must be between ${min} and ${max}`);
  return n;
}

function fieldFor(key: string): FieldSpec | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(key)) return FIELD_BY_TAG.get(key.toUpperCase());
  return (
    FIELD_BY_KEYWORD.get(key) ?? FIELDS.find((f) => f.keyword.toLowerCase() === key.toLowerCase())
  );
}

/** An extended query tag by its path (any case) or keyword. */
function extendedFieldFor(
  extended: ReadonlyMap<string, FieldSpec> | undefined,
  key: string,
): FieldSpec | undefined {
  if (!extended) return undefined;
  return extended.get(/^[0-9A-Fa-f]{8}$/.test(key) ? key.toUpperCase() : key);
}

function supportedAt(level: Level): string[] {
  return FIELDS.filter(
    (f) => levelAtMost(f.level, level) && f.tag !== Tag.InstanceAvailability,
  ).map((f) => f.keyword);
}

/**
 * Wildcards `*` and `?` (PS3.4 §C.2.2.2.4), case-insensitive, in time linear in the value
 * for a bounded pattern (src/dicom/wildcard.ts: never a backtracking RegExp, issue 10).
 */
function wildcardTest(pattern: string): { test: (value: string) => boolean } {
  const compiled = compileWildcard(pattern);
  return { test: (value) => wildcardMatches(compiled, value) };
}

/**
 * A test for one matching key (PS3.4 §C.2.2.2): empty or `*` is universal matching; UIDs
 * match a list (§C.2.2.2.2, PS3.18 §8.3.4.1: comma separated); DA/TM/DT take ranges
 * `a-b`, `a-`, `-b` (§C.2.2.2.5); PN matches case-insensitively (§C.2.2.2.1 allows it), and
 * with fuzzymatching each word of the query must start a word of the name (PS3.18 §8.3.4.4;
 * the Azure DICOM service's "prefix word match"); other text matches exactly or by
 * wildcards, ignoring case as Orthanc does. A multi-valued attribute matches when one value does.
 */
export function matcher(
  field: FieldSpec,
  value: string,
  fuzzy: boolean,
): (raw: string | undefined) => boolean {
  const query = value.trim();
  if (query === '' || /^\*+$/.test(query)) return () => true;
  const values = (raw: string | undefined): string[] =>
    raw === undefined ? [] : raw.split('\\').map((v) => v.trim());
  switch (field.vr) {
    case 'UI': {
      const wanted = new Set(
        query
          .split(/[,\\]/)
          .map((v) => v.trim())
          .filter(Boolean),
      );
      return (raw) => values(raw).some((v) => wanted.has(v));
    }
    case 'DA':
    case 'TM':
    case 'DT': {
      const dash = query.indexOf('-');
      // DT may carry a negative UTC offset ("…-0500"); only a range dash sits at an end or between
      // two values of equal shape.
      if (dash >= 0 && (field.vr !== 'DT' || query.split('-').length === 2)) {
        const low = query.slice(0, dash).trim();
        const high = query.slice(dash + 1).trim();
        const norm = (v: string) => v.replace(/[:.]/g, '');
        return (raw) =>
          values(raw).some((v) => {
            const n = norm(v);
            if (low && n < norm(low)) return false;
            // An upper bound with less precision includes the whole period ("1200" includes
            // 12:00:59).
            if (high && n.slice(0, norm(high).length) > norm(high)) return false;
            return n !== '';
          });
      }
      const list = query.split(',').map((v) => v.trim().replace(/[:.]/g, ''));
      return (raw) => values(raw).some((v) => list.includes(v.replace(/[:.]/g, '')));
    }
    case 'PN': {
      if (fuzzy) {
        const words = query
          .toLowerCase()
          .split(/[\s^=,]+/)
          .filter(Boolean)
          .map((w) => w.replace(/[*?]/g, ''));
        return (raw) => {
          const nameWords = (raw ?? '')
            .toLowerCase()
            .split(/[\s^=]+/)
            .filter(Boolean);
          return words.every((word) => nameWords.some((name) => name.startsWith(word)));
        };
      }
      const pattern = wildcardTest(query);
      // A name matches on its whole value or on one component group
      // (Alphabetic=Ideographic=Phonetic).
      return (raw) =>
        values(raw).some(
          (v) =>
            pattern.test(v) ||
            v.split('=').some((group) => pattern.test(group)) ||
            pattern.test(v.replace(/\^+$/, '')),
        );
    }
    case 'DS':
    case 'IS':
    case 'FL':
    case 'FD':
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL': {
      // PS3.4 §C.2.2.2.1: a number matches its value, not its spelling ("0.8" finds "0.80");
      // Azure indexes these VRs as numbers too (extended query tags). Otherwise: as text.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(query)) return textMatcher(field, query);
      const wanted = Number(query);
      return (raw) => values(raw).some((v) => v !== '' && Number(v) === wanted);
    }
    default:
      return textMatcher(field, query);
  }
}

/** Exact or wildcard text matching, ignoring case; CS takes a comma list of alternatives. */
function textMatcher(field: FieldSpec, query: string): (raw: string | undefined) => boolean {
  const values = (raw: string | undefined): string[] =>
    raw === undefined ? [] : raw.split('\\').map((v) => v.trim());
  const alternatives = field.vr === 'CS' ? query.split(',').map((v) => v.trim()) : [query];
  const patterns = alternatives.map((alt) => wildcardTest(alt));
  return (raw) => values(raw).some((v) => patterns.some((p) => p.test(v)));
}

/** The value of a field for a node at or below the field's level. */
function fieldValue(field: FieldSpec, node: Node, level: Level): string | undefined {
  const owner = ownerAt(node, level, field.level);
  if (!owner) return undefined;
  return field.computed ? field.computed(owner) : owner.attrs[field.tag];
}

function ownerAt(node: Node, nodeLevel: Level, wanted: Level): Node | undefined {
  if (nodeLevel === wanted) return node;
  if (nodeLevel === 'instance')
    return wanted === 'series'
      ? (node as InstanceNode).series
      : (node as InstanceNode).series.study;
  if (nodeLevel === 'series') return wanted === 'study' ? (node as SeriesNode).study : undefined;
  return undefined;
}

/** Candidates of a search: the nodes at its level inside its scope. */
function candidates(catalog: Catalog, search: QidoSearch): Node[] {
  if (search.level === 'study') return [...catalog.studies.values()];
  const studies = search.studyUid
    ? [catalog.studies.get(search.studyUid)].filter((s): s is StudyNode => !!s)
    : [...catalog.studies.values()];
  if (search.level === 'series') return studies.flatMap((study) => [...study.series.values()]);
  const series = search.seriesUid
    ? studies
        .map((study) => study.series.get(search.seriesUid!))
        .filter((s): s is SeriesNode => !!s)
    : studies.flatMap((study) => [...study.series.values()]);
  return series.flatMap((s) => [...s.instances.values()]);
}

/**
 * Runs a search: matching nodes newest first (the Azure DICOM service pages newest-first),
 * then the page `offset`..`offset+limit`.
 */
export function runSearch(catalog: Catalog, search: QidoSearch): Node[] {
  const found: Node[] = [];
  for (const node of candidates(catalog, search)) {
    if (search.filters.every((filter) => filter.test(fieldValue(filter.field, node, search.level))))
      found.push(node);
  }
  found.sort((a, b) => b.seq - a.seq);
  return found.slice(search.offset, search.offset + search.limit);
}

/**
 * Which fields an answer carries (PS3.18 §10.6.3.3): the level's defaults; for a search not
 * scoped to a study the study's defaults too, for instances not scoped to a series the
 * series' defaults too; the parents' UIDs always; matching keys and includefield.
 */
export function answerFields(search: QidoSearch): FieldSpec[] {
  const fields = new Set<FieldSpec>();
  for (const field of FIELDS) {
    if (!levelAtMost(field.level, search.level)) continue;
    const own = field.level === search.level;
    const parentDefaults =
      (field.level === 'study' && !search.studyUid) ||
      (field.level === 'series' && search.level === 'instance' && !search.seriesUid);
    if (search.includeAll || (field.isDefault && (own || parentDefaults))) fields.add(field);
  }
  fields.add(FIELD_BY_TAG.get(Tag.StudyInstanceUID)!);
  if (search.level !== 'study') fields.add(FIELD_BY_TAG.get(Tag.SeriesInstanceUID)!);
  for (const field of search.extraFields) fields.add(field);
  return [...fields].sort((a, b) => (a.tag < b.tag ? -1 : 1));
}

/** The DICOM JSON datasets of a page of results. */
export async function answer(
  dir: string,
  search: QidoSearch,
  nodes: Node[],
  bulkDataUri: (node: InstanceNode, path: string[]) => string,
  baseUrl?: string,
): Promise<JsonDataset[]> {
  const fields = answerFields(search);
  const results: JsonDataset[] = nodes.map((node) => {
    const out: JsonDataset = {};
    for (const field of fields) {
      const value = jsonValue(field.vr, fieldValue(field, node, search.level));
      out[field.tag] = value ? { vr: field.vr, Value: value } : { vr: field.vr };
    }
    if (baseUrl)
      out[Tag.RetrieveURL] = { vr: 'UR', Value: [retrieveUrl(baseUrl, node, search.level)] };
    return sortedByTag(out);
  });
  // Attributes the index does not keep come from a file (for instances `all` means every one).
  const fromFile = search.fileTags.size > 0 || (search.includeAll && search.level === 'instance');
  if (fromFile) {
    await Promise.all(
      nodes.map(async (node, index) => {
        const instance = representative(node, search.level);
        if (!instance) return;
        try {
          const header = await readInstanceHeader(storedFile(dir, instance.file));
          const extra = dataSetToJson(header.dataSet, {
            bulkDataUri: (path) => bulkDataUri(instance, path),
            ...(search.includeAll && search.level === 'instance'
              ? {}
              : { onlyTags: search.fileTags }),
          });
          results[index] = sortedByTag({ ...extra, ...results[index] });
        } catch {
          /* the file vanished between the search and now: answer what the index knows */
        }
      }),
    );
  }
  return results;
}

function sortedByTag(dataset: JsonDataset): JsonDataset {
  return Object.fromEntries(
    Object.keys(dataset)
      .sort()
      .map((key) => [key, dataset[key]!]),
  );
}

/**
 * Retrieve URL (0008,1190) of a study, series or instance result: PS3.18 §10.6.3.3 lists it
 * among the result attributes of each level, the WADO-RS URL the result can be retrieved from.
 */
function retrieveUrl(baseUrl: string, node: Node, level: Level): string {
  if (level === 'study') return `${baseUrl}/studies/${node.uid}`;
  if (level === 'series') {
    const series = node as SeriesNode;
    return `${baseUrl}/studies/${series.study.uid}/series/${series.uid}`;
  }
  const instance = node as InstanceNode;
  return `${baseUrl}/studies/${instance.series.study.uid}/series/${instance.series.uid}/instances/${instance.uid}`;
}

function representative(node: Node, level: Level): InstanceNode | undefined {
  if (level === 'instance') return node as InstanceNode;
  const series =
    level === 'series' ? (node as SeriesNode) : (node as StudyNode).series.values().next().value;
  return series?.instances.values().next().value;
}
