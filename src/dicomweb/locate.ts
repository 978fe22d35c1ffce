/**
 * Where a UID lives on a server: "Find by UID…" asks QIDO-RS (PS3.18 §10.6) at the level the
 * input tells, or, for a bare UID, at each level in turn (`/studies?StudyInstanceUID=`, then
 * `/series?SeriesInstanceUID=`, then `/instances?SOPInstanceUID=`), reads the parents' UIDs
 * from the answer (StudyInstanceUID 0020000D, SeriesInstanceUID 0020000E) and fetches the
 * parents' rows, so a tree can show the path down to it.
 *
 * A server that ignores a matching key answers with rows of other UIDs: every row is checked
 * here, and such an answer is named in the not-found sentence rather than trusted.
 *
 * No `vscode` import.
 */
import { Tag } from '../dicom/tags';
import type { DicomJsonDataset } from '../dicom/types';
import type { QidoLevel, QidoQuery, QidoScope } from './requests';
import type { SearchResult } from './search';
import { DicomWebError } from './transport/errors';
import type { RequestOptions } from './session';
import { levelName, type UidLevel, type UidSearch } from './uidInput';

/** What locating needs of a client: one QIDO request (DicomWebClient.search). */
export interface UidSearcher {
  search(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    options?: RequestOptions,
  ): Promise<SearchResult>;
}

/** Attributes to ask for at each level (the tree's rows show them). */
export interface LocateFields {
  study: readonly string[];
  series: readonly string[];
  instance: readonly string[];
}

/** The rows from the study down to the resource sought. */
export interface Located {
  level: UidLevel;
  study: DicomJsonDataset;
  series?: DicomJsonDataset;
  instance?: DicomJsonDataset;
  /** Set when the URL's parents are not the server's: the sentence says where it really is. */
  warning?: string;
}

export type LocateOutcome = { found: Located } | { notFound: string };

/**
 * Rows asked for at one level. A server that filters answers with one row (a few when a UID
 * is stored twice, as Orthanc allows under two patients); one that ignores the key answers
 * with the first rows of everything, and 10 of them are enough to tell.
 */
export const LOCATE_ROW_LIMIT = 10;

const QIDO_LEVEL: Record<UidLevel, QidoLevel> = {
  study: 'studies',
  series: 'series',
  instance: 'instances',
};
const UID_TAG: Record<UidLevel, string> = {
  study: Tag.StudyInstanceUID,
  series: Tag.SeriesInstanceUID,
  instance: Tag.SOPInstanceUID,
};
const UID_KEYWORD: Record<UidLevel, string> = {
  study: 'StudyInstanceUID',
  series: 'SeriesInstanceUID',
  instance: 'SOPInstanceUID',
};
const PLURAL: Record<UidLevel, string> = {
  study: 'studies',
  series: 'series',
  instance: 'instances',
};
/** The parents' UIDs a row must carry to be placed (PS3.18 §10.6.3.3: asked for explicitly). */
const PARENT_KEYWORDS: Record<UidLevel, string[]> = {
  study: [],
  series: ['StudyInstanceUID'],
  instance: ['StudyInstanceUID', 'SeriesInstanceUID'],
};

/**
 * Finds `wanted` on one server. `where` names the server in sentences
 * ("Orthanc (http://127.0.0.1:8042/dicom-web)").
 */
export async function locateUid(
  searcher: UidSearcher,
  wanted: UidSearch,
  where: string,
  fields: LocateFields,
  options: RequestOptions = {},
): Promise<LocateOutcome> {
  const ask: Asking = { searcher, fields, options };
  const levels: UidLevel[] = wanted.level ? [wanted.level] : ['study', 'series', 'instance'];
  const ignored: string[] = [];
  const refused: string[] = [];
  for (const level of levels) {
    const rows = await searchLevel(ask, level, wanted.uid).catch((error: unknown) => {
      const refusal = refusalOf(level, error);
      if (refusal === undefined) throw error;
      refused.push(refusal);
      return undefined;
    });
    if (!rows) continue;
    const matching = rows.filter((row) => uidOf(row, UID_TAG[level]) === wanted.uid);
    if (matching.length === 0) {
      if (rows.length > 0) ignored.push(ignoredKeyNote(level, rows.length));
      continue;
    }
    const row = matching.find((candidate) => agreesWithUrl(candidate, wanted)) ?? matching[0];
    return placeRow(ask, level, row, wanted, where);
  }
  if (refused.length === levels.length) {
    const what = wanted.level ? levelName(wanted.level) : 'UID';
    return {
      notFound: `${what} ${wanted.uid} could not be looked for on ${where}: ${refused.join('; ')}.`,
    };
  }
  return { notFound: notFoundSentence(wanted, where, [...refused, ...ignored]) };
}

/**
 * Statuses that mean "this server does not do that search" (PS3.18 §8.6.1.1: 400 for a
 * query it cannot process, 404/405/501 for a resource it does not serve, such as
 * `/instances` without a study): the other levels are still tried, and the sentence says
 * which search was refused. Anything else (network, 401, 5xx) fails the whole find.
 */
const REFUSING_STATUSES = new Set([400, 404, 405, 501]);

function refusalOf(level: UidLevel, error: unknown): string | undefined {
  if (!(error instanceof DicomWebError) || !REFUSING_STATUSES.has(error.status ?? 0))
    return undefined;
  const said = error.serverMessage ? `: ${error.serverMessage}` : '';
  return `the server refused the ${level} search (${error.status}${said})`;
}

/** What every request of one search shares. */
interface Asking {
  searcher: UidSearcher;
  fields: LocateFields;
  options: RequestOptions;
}

/** `/studies?StudyInstanceUID=…` (and the two others), with the row's and parents' fields. */
async function searchLevel(
  { searcher, fields, options }: Asking,
  level: UidLevel,
  uid: string,
  scope: QidoScope = {},
): Promise<DicomJsonDataset[]> {
  const result = await searcher.search(
    QIDO_LEVEL[level],
    scope,
    {
      match: { [UID_KEYWORD[level]]: uid },
      includeField: [...new Set([...fields[level], ...PARENT_KEYWORDS[level]])],
      limit: LOCATE_ROW_LIMIT,
    },
    options,
  );
  return result.items;
}

/** The rows above a found row, fetched and checked; or why they cannot be. */
async function placeRow(
  ask: Asking,
  level: UidLevel,
  row: DicomJsonDataset,
  wanted: UidSearch,
  where: string,
): Promise<LocateOutcome> {
  if (level === 'study') return { found: { level, study: row } };
  const studyUid = uidOf(row, Tag.StudyInstanceUID);
  const seriesUid = level === 'instance' ? uidOf(row, Tag.SeriesInstanceUID) : undefined;
  if (!studyUid || (level === 'instance' && !seriesUid)) {
    const missing = !studyUid ? 'StudyInstanceUID (0020000D)' : 'SeriesInstanceUID (0020000E)';
    return {
      notFound: `${levelName(level)} ${wanted.uid} is on ${where}, but the server's answer does not name its ${missing}, so it cannot be placed in the tree.`,
    };
  }
  const study = await exactRow(ask, 'study', studyUid);
  if (!study) return { notFound: missingParent(level, wanted.uid, 'study', studyUid, where) };
  const warning = disagreement(level, wanted, studyUid, seriesUid, where);
  if (level === 'series') return { found: { level, study, series: row, warning } };
  const series = await exactRow(ask, 'series', seriesUid!, { studyInstanceUid: studyUid });
  if (!series) return { notFound: missingParent(level, wanted.uid, 'series', seriesUid!, where) };
  return { found: { level, study, series, instance: row, warning } };
}

/** The one row with exactly this UID at this level, or undefined. */
async function exactRow(
  ask: Asking,
  level: UidLevel,
  uid: string,
  scope: QidoScope = {},
): Promise<DicomJsonDataset | undefined> {
  const rows = await searchLevel(ask, level, uid, scope);
  return rows.find((row) => uidOf(row, UID_TAG[level]) === uid);
}

function agreesWithUrl(row: DicomJsonDataset, wanted: UidSearch): boolean {
  return (
    (!wanted.studyInstanceUid || uidOf(row, Tag.StudyInstanceUID) === wanted.studyInstanceUid) &&
    (!wanted.seriesInstanceUid || uidOf(row, Tag.SeriesInstanceUID) === wanted.seriesInstanceUid)
  );
}

/** "The URL puts series X in study S, but on Orthanc (…) it is in study T." */
function disagreement(
  level: UidLevel,
  wanted: UidSearch,
  studyUid: string,
  seriesUid: string | undefined,
  where: string,
): string | undefined {
  const claims: string[] = [];
  const truth: string[] = [];
  if (wanted.seriesInstanceUid && seriesUid && wanted.seriesInstanceUid !== seriesUid) {
    claims.push(`series ${wanted.seriesInstanceUid}`);
    truth.push(`series ${seriesUid}`);
  }
  if (wanted.studyInstanceUid && wanted.studyInstanceUid !== studyUid) {
    claims.push(`study ${wanted.studyInstanceUid}`);
    truth.push(`study ${studyUid}`);
  }
  if (claims.length === 0) return undefined;
  const noun = level === 'instance' ? 'instance' : 'series';
  return `The ${wanted.source} puts ${noun} ${wanted.uid} in ${claims.join(' of ')}, but on ${where} it is in ${truth.join(' of ')}; showing it there.`;
}

function missingParent(
  level: UidLevel,
  uid: string,
  parent: UidLevel,
  parentUid: string,
  where: string,
): string {
  return `${levelName(level)} ${uid} is on ${where} and names ${parent} ${parentUid}, but a search for that ${parent} finds nothing there.`;
}

function ignoredKeyNote(level: UidLevel, count: number): string {
  const rows =
    count === 1
      ? `1 ${level} with another UID`
      : `${count >= LOCATE_ROW_LIMIT ? `${count} or more` : count} ${PLURAL[level]} with other UIDs`;
  return `the ${level} search answered ${rows}: the server seems to ignore ${UID_KEYWORD[level]}`;
}

/**
 * "SOP Instance UID 1.2.3 was not found on Orthanc (http://…): no instance has it." A bare
 * UID was looked for at every level: "no study, series or instance has it".
 */
function notFoundSentence(wanted: UidSearch, where: string, ignored: string[]): string {
  const what = wanted.level ? levelName(wanted.level) : 'UID';
  const none = wanted.level ? `no ${wanted.level} has it` : 'no study, series or instance has it';
  const parents = [
    wanted.studyInstanceUid && `study ${wanted.studyInstanceUid}`,
    wanted.seriesInstanceUid && `series ${wanted.seriesInstanceUid}`,
  ].filter(Boolean);
  const named = parents.length ? ` (the ${wanted.source} puts it in ${parents.join(', ')})` : '';
  const note = ignored.length ? ` Note: ${ignored.join('; ')}.` : '';
  return `${what} ${wanted.uid} was not found on ${where}: ${none}${named}.${note}`;
}

function uidOf(row: DicomJsonDataset, tag: string): string | undefined {
  const value = row[tag]?.Value?.[0];
  // PS3.5 §9.1: a UI value may carry one trailing NUL pad; some servers keep it, or a space.
  return typeof value === 'string' ? value.replace(/[\0 ]+$/, '') : undefined;
}
