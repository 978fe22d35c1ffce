/**
 * Extended query tags as the Azure DICOM service defines them ("Extended query tags
 * overview", learn.microsoft.com/azure/healthcare-apis/dicom/dicom-extended-query-tags-overview):
 * what may be added (the checks of its ExtendedQueryTagEntryValidator), the JSON it answers,
 * and how a stored value is read and checked against the tag's VR (PS3.5 §6.2) when an
 * instance is indexed.
 *
 * Plain Node: no `vscode` import.
 */
import type * as dicomParser from 'dicom-parser';
import { isPrivateTag, lookupTag, normalizeTag, resolveTag } from '../dicom/dictionary';
import { rawString } from '../dicom/dataSetJson';
import { EXTENDED_QUERY_TAG_VRS } from '../dicom/extendedQueryTagVrs';
import { FIELD_BY_TAG, type FieldSpec, type Level } from './catalog';
import { HttpError } from './httpUtil';

export type QueryTagLevel = 'Study' | 'Series' | 'Instance';
export type TagStatus = 'Adding' | 'Ready' | 'Deleting';
export type QueryStatus = 'Enabled' | 'Disabled';

/** Azure's ExtendedQueryTagConfiguration.MaxAllowedCount: at most 128 tags per service. */
export const MAX_EXTENDED_QUERY_TAGS = 128;
/** Errors kept per tag (ErrorCount still counts them all): a reindex of a large folder where
 * every instance fails must not grow the state file without bound. */
export const MAX_ERRORS_KEPT_PER_TAG = 1000;
/** Paging of the tag list and of a tag's errors: Azure's limit 1–200, default 100. */
export const PAGE_DEFAULT_LIMIT = 100;
export const PAGE_MAX_LIMIT = 200;

/** One failed value, with the instance it came from (Azure's ExtendedQueryTagError). */
export interface TagError {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  createdTime: string;
  message: string;
  /**
   * The instance's place in the reindex order (extendedQueryTagService.ts): a resumed reindex
   * drops the errors past its watermark before it indexes those instances again. Not answered.
   */
  orderKey?: string;
}

/** An extended query tag and its state. */
export interface ExtendedTag {
  /** 8 upper-case hex digits. */
  path: string;
  vr: string;
  level: QueryTagLevel;
  privateCreator?: string;
  status: TagStatus;
  queryStatus: QueryStatus;
  /** The reindex operation that added it. */
  operationId?: string;
  errorCount: number;
  errors: TagError[];
}

const LEVELS: Record<string, QueryTagLevel> = {
  study: 'Study',
  series: 'Series',
  instance: 'Instance',
};

export function catalogLevel(level: QueryTagLevel): Level {
  return level.toLowerCase() as Level;
}

/** A tag path, `00101010` or a keyword (`PatientAge`), read as Azure's DicomTagParser does. */
export function parseTagPath(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0 || path.length > 64) return undefined;
  if (/^[0-9A-Fa-f]{8}$/.test(path)) return normalizeTag(path);
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(path)) return undefined;
  return resolveTag(path);
}

function bad(message: string): never {
  throw new HttpError(400, message);
}

/**
 * Checks the body of `POST /extendedquerytags` and returns the new tags (status Adding).
 * 400 for anything Azure's validator refuses, 409 when a tag already exists; the whole
 * request fails or none of it is added, as in Azure.
 */
export function validateAddRequest(
  body: unknown,
  existing: ReadonlyMap<string, ExtendedTag>,
  maxTags: number,
): ExtendedTag[] {
  if (!Array.isArray(body)) bad('the body must be a JSON array of extended query tags');
  if (body.length === 0) bad('the request must name at least one extended query tag');
  const seen = new Set<string>();
  const added = body.map((entry: unknown) => {
    const tag = validateEntry(entry);
    if (seen.has(tag.path)) bad(`the extended query tag ${tag.path} is named twice`);
    seen.add(tag.path);
    return tag;
  });
  for (const tag of added) {
    if (existing.has(tag.path))
      throw new HttpError(409, `the extended query tag ${tag.path} already exists`);
  }
  if (existing.size + added.length > maxTags) {
    bad(
      `at most ${maxTags} extended query tags are allowed; ${existing.size} exist and ${added.length} were asked for`,
    );
  }
  return added;
}

function field(record: Record<string, unknown>, name: string): unknown {
  // ASP.NET binds JSON properties case-insensitively: "path" works as "Path" does.
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : record[key];
}

function validateEntry(entry: unknown): ExtendedTag {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry))
    bad('each extended query tag must be an object with Path, VR, Level, PrivateCreator');
  const record = entry as Record<string, unknown>;
  const rawPath = field(record, 'Path');
  const path = parseTagPath(rawPath);
  if (!path) bad(`"${String(rawPath).slice(0, 70)}" is not a valid tag path`);
  // Already indexed: the attributes QIDO searches without extension (Azure: QueryLimit.CoreTags).
  if (FIELD_BY_TAG.has(path)) bad(`the tag ${path} is already supported by QIDO`);
  const rawLevel = field(record, 'Level');
  const level = typeof rawLevel === 'string' ? LEVELS[rawLevel.toLowerCase()] : undefined;
  if (!level) bad(`the Level of ${path} is missing or not one of Study, Series, Instance`);
  const creator = validateCreator(path, field(record, 'PrivateCreator'));
  const vr = validateVr(path, field(record, 'VR'));
  return {
    path,
    vr,
    level,
    ...(creator ? { privateCreator: creator } : {}),
    status: 'Adding',
    queryStatus: 'Enabled',
    errorCount: 0,
    errors: [],
  };
}

/** PS3.5 §7.8.1: a private data element needs its creator; a standard one must not have one. */
function validateCreator(path: string, value: unknown): string | undefined {
  const creator = typeof value === 'string' ? value.trim() : '';
  if (value !== undefined && value !== null && typeof value !== 'string')
    bad(`the PrivateCreator of ${path} must be a string`);
  const element = parseInt(path.slice(4), 16);
  if (!isPrivateTag(path)) {
    if (creator) bad(`the standard tag ${path} cannot have a PrivateCreator`);
    return undefined;
  }
  if (element === 0) bad(`${path} is a group length, not an attribute`);
  if (element <= 0x00ff) {
    // The private creator element itself.
    if (creator) bad(`the private creator element ${path} cannot have a PrivateCreator`);
    return undefined;
  }
  if (!creator) bad(`the private tag ${path} needs its PrivateCreator`);
  // LO (PS3.5 §6.2): at most 64 characters, no backslash or control character.
  if (creator.length > 64 || creator.includes('\\') || hasControl(creator, false))
    bad(`the PrivateCreator of ${path} is not a valid LO value`);
  return creator;
}

function validateVr(path: string, value: unknown): string {
  if (value !== undefined && value !== null && typeof value !== 'string')
    bad(`the VR of ${path} must be a string`);
  const given = typeof value === 'string' && value.trim() ? value.trim().toUpperCase() : undefined;
  if (given && !/^[A-Z]{2}$/.test(given)) bad(`"${given.slice(0, 10)}" is not a VR`);
  const info = lookupTag(path);
  const known = info && !info.private && info.vr ? info.vr.split(' or ') : undefined;
  let vr: string;
  if (known) {
    if (given && !known.includes(given))
      bad(`the VR ${given} is not valid for ${path}; its VR is ${known.join(' or ')}`);
    vr = given ?? known[0]!;
  } else {
    // The private creator element is LO (PS3.5 §7.8.1); other unknown tags need their VR.
    vr = given ?? (info?.vr === 'LO' ? 'LO' : bad(`the VR of the unknown tag ${path} is needed`));
  }
  if (vr === 'SQ') bad(`${path} is a sequence; extended query tags index single values only`);
  if (!EXTENDED_QUERY_TAG_VRS.includes(vr))
    bad(`the VR ${vr} of ${path} is not supported for extended query`);
  return vr;
}

/** The JSON of one tag (Azure's GetExtendedQueryTagEntry). */
export function tagJson(tag: ExtendedTag, baseUrl: string): Record<string, unknown> {
  return {
    Path: tag.path,
    VR: tag.vr,
    ...(tag.privateCreator ? { PrivateCreator: tag.privateCreator } : {}),
    Level: tag.level,
    Status: tag.status,
    QueryStatus: tag.queryStatus,
    Errors: {
      Count: tag.errorCount,
      Href: `${baseUrl}/extendedquerytags/${tag.path}/errors`,
    },
    ...(tag.operationId
      ? {
          Operation: {
            id: tag.operationId,
            href: `${baseUrl}/operations/${tag.operationId}`,
          },
        }
      : {}),
  };
}

/** The JSON of one error (Azure's ExtendedQueryTagError). */
export function errorJson(error: TagError): Record<string, unknown> {
  return {
    StudyInstanceUid: error.studyUid,
    SeriesInstanceUid: error.seriesUid,
    SopInstanceUid: error.sopUid,
    CreatedTime: error.createdTime,
    ErrorMessage: error.message,
  };
}

/** The catalog field a tag adds: QIDO matches and returns it like the built-in ones. */
export function fieldOf(tag: ExtendedTag): FieldSpec {
  const keyword = lookupTag(tag.path)?.keyword || tag.path;
  return {
    tag: tag.path,
    keyword,
    vr: tag.vr,
    level: catalogLevel(tag.level),
    isDefault: false,
    read: (dataSet) => readTagValue(dataSet, tag).value,
    check: (dataSet) => readTagValue(dataSet, tag),
  };
}

/** A value read for a tag: the value, nothing (absent or empty), or why it does not fit. */
export interface TagValue {
  value?: string;
  error?: string;
  /**
   * The element holds more than one value and only the first is indexed: Azure's
   * ValidateDicomTag answers IndexedDicomTagHasMultipleValues, a warning, not an error.
   */
  multiple?: boolean;
}

/**
 * Reads a tag's value from an instance and checks it against the tag's VR. Absent, empty, or
 * a private tag whose block belongs to another creator: no value, no error. Another explicit
 * VR, or a value that breaks its VR's rules (PS3.5 §6.2): an error, as Azure's element
 * validators report it; the instance is then not indexed for the tag. More than one value:
 * the first is indexed, flagged `multiple` (Azure's DicomDatasetExtensions.ValidateDicomTag
 * warns IndexedDicomTagHasMultipleValues, "only first value is indexed").
 */
export function readTagValue(
  dataSet: dicomParser.DataSet,
  tag: Pick<ExtendedTag, 'path' | 'vr' | 'privateCreator'>,
): TagValue {
  const key = `x${tag.path.toLowerCase()}`;
  if (tag.privateCreator) {
    // PS3.5 §7.8.1: (gggg,xxee) belongs to the creator at (gggg,00xx).
    const creatorKey = `x${tag.path.slice(0, 4)}00${tag.path.slice(4, 6)}`.toLowerCase();
    if (rawString(dataSet, creatorKey, 'LO')?.trim() !== tag.privateCreator) return {};
  }
  const element = dataSet.elements[key];
  if (!element || element.length === 0) return {};
  if (element.vr && element.vr !== tag.vr && element.vr !== 'UN')
    return { error: `the value has VR ${element.vr}; the tag is indexed as ${tag.vr}` };
  let raw: string | undefined;
  try {
    raw = rawString(dataSet, key, tag.vr);
  } catch (error) {
    return { error: `the value cannot be read: ${(error as Error).message}` };
  }
  if (raw === undefined) return {};
  const values = raw.split('\\').map((v) => v.trim());
  for (const each of values) {
    const problem = each === '' ? undefined : vrProblem(tag.vr, each);
    if (problem) return { error: `"${each.slice(0, 80)}" is not a valid ${tag.vr}: ${problem}` };
  }
  const value = values[0]!;
  if (value === '') return {};
  return values.length > 1 ? { value, multiple: true } : { value };
}

const MAX_LENGTH: Record<string, number> = {
  AE: 16,
  AS: 4,
  CS: 16,
  DA: 8,
  DS: 16,
  DT: 26,
  IS: 12,
  LO: 64,
  SH: 16,
  TM: 14,
  UI: 64,
};

/** Why a value breaks its VR (PS3.5 §6.2, Table 6.2-1), or undefined. */
export function vrProblem(vr: string, value: string): string | undefined {
  const max = MAX_LENGTH[vr];
  if (max !== undefined && value.length > max) return `longer than ${max} characters`;
  if (hasControl(value, true)) return 'it holds a control character';
  switch (vr) {
    case 'AS':
      return /^\d{3}[DWMY]$/.test(value) ? undefined : 'an age is nnnD, nnnW, nnnM or nnnY';
    case 'CS':
      return /^[A-Z0-9 _]*$/.test(value) ? undefined : 'only A-Z, 0-9, space and _ are allowed';
    case 'DA':
      return isDate(value) ? undefined : 'a date is YYYYMMDD';
    case 'DT':
      return /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/.test(value)
        ? undefined
        : 'a date-time is YYYYMMDDHHMMSS.FFFFFF&ZZXX';
    case 'TM':
      return /^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/.test(value)
        ? undefined
        : 'a time is HHMMSS.FFFFFF';
    case 'DS':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? undefined : 'not a decimal';
    case 'IS': {
      const n = Number(value);
      return /^[+-]?\d+$/.test(value) && n >= -(2 ** 31) && n < 2 ** 31
        ? undefined
        : 'not an integer in the range of IS';
    }
    case 'UI':
      return /^[0-9]+(\.[0-9]+)*$/.test(value) ? undefined : 'a UID is digits and dots';
    case 'PN':
      return value.split('=').some((group) => group.length > 64)
        ? 'a component group is longer than 64 characters'
        : undefined;
    default:
      return undefined;
  }
}

/** PS3.5 §6.1.2.3: no control character in these values, but ESC (for character sets). */
function hasControl(value: string, allowEscape: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 && !(allowEscape && code === 0x1b)) return true;
  }
  return false;
}

function isDate(value: string): boolean {
  if (!/^\d{8}$/.test(value)) return false;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(4, 6));
  const day = Number(value.slice(6, 8));
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}
