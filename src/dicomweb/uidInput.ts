/**
 * What a person pastes into "Find by UID…": a bare UID (PS3.5 §9.1), or a URL that names
 * one: a WADO-RS / QIDO-RS path (PS3.18 §10.4, §10.6) under any prefix (Azure's `/v1`,
 * `/v2`, `/partitions/{name}`, Google's `/projects/…/dicomWeb`, dcm4chee's `/aets/{AET}/rs`),
 * a QIDO matching key (`?SeriesInstanceUID=`), a WADO-URI request (PS3.18 §9:
 * `requestType=WADO&studyUID=…&seriesUID=…&objectUID=…`) or an OHIF viewer link
 * (`StudyInstanceUIDs=`). The answer says which UID is sought, at which level when the
 * input tells it, and the parents the URL claims (the server must agree).
 *
 * No `vscode` import: the input box validates with it as the person types.
 */
import { Tag } from '../dicom/tags';
import { uidProblem } from '../dicom/uids';

export type UidLevel = 'study' | 'series' | 'instance';

/** What to look for. */
export interface UidSearch {
  /** The UID sought: the deepest one the input names. */
  uid: string;
  /** Its level when a URL tells it; undefined for a bare UID (the server decides). */
  level?: UidLevel;
  /** The study a URL puts the series or instance in. */
  studyInstanceUid?: string;
  /** The series a URL puts the instance in. */
  seriesInstanceUid?: string;
  /** What was pasted, for messages: "UID", "DICOMweb URL", "WADO-URI URL", "viewer URL". */
  source: string;
}

/** Bad input, with a sentence that says what is wrong. */
export class UidInputError extends Error {
  override readonly name = 'UidInputError';
}

/**
 * Longest text accepted. A UID is 64 characters at most; a URL naming three of them under a
 * long prefix stays well under 2 KB. 8 KB is the usual limit of a request line (nginx's
 * large_client_header_buffers), so no server would take a longer URL either.
 */
export const UID_INPUT_MAX_LENGTH = 8192;

const LEVEL_NAME: Record<UidLevel, string> = {
  study: 'Study Instance UID',
  series: 'Series Instance UID',
  instance: 'SOP Instance UID',
};

/** "Study Instance UID", "Series Instance UID", "SOP Instance UID". */
export function levelName(level: UidLevel): string {
  return LEVEL_NAME[level];
}

/**
 * The UID (and what the input says of it) in `text`. Throws {@link UidInputError} with a
 * sentence naming what is wrong.
 */
export function parseUidInput(text: string): UidSearch {
  if (text.length > UID_INPUT_MAX_LENGTH) {
    throw new UidInputError(
      `The text is ${text.length} characters long; a UID or DICOMweb URL is at most ${UID_INPUT_MAX_LENGTH}.`,
    );
  }
  const trimmed = unwrap(text);
  if (!trimmed) {
    throw new UidInputError(
      'Paste a Study, Series or SOP Instance UID, or a DICOMweb or WADO URL.',
    );
  }
  if (looksLikeUrl(trimmed)) return parseUrl(trimmed);
  // `urn:oid:` is how UIDs appear in XML and FHIR (PS3.18 §F.3, FHIR ImagingStudy.identifier).
  const uid = trimmed.replace(/^urn:oid:/i, '').replace(/\0+$/, '');
  const problem = uidProblem(uid);
  if (problem) throw new UidInputError(`${echo(uid)} is not a UID: ${problem} (PS3.5 §9.1).`);
  return { uid, source: 'UID' };
}

/** Surrounding blanks, quotes and brackets go (a UID copied from a dump: `[1.2.3]`). */
function unwrap(text: string): string {
  let out = text.trim();
  for (;;) {
    const pair = /^(["'`<[(])([\s\S]*)([\]"'`>)])$/.exec(out);
    if (!pair || !isPair(pair[1], pair[3])) return out;
    out = pair[2].trim();
  }
}

function isPair(open: string, close: string): boolean {
  return (
    ({ '"': '"', "'": "'", '`': '`', '<': '>', '[': ']', '(': ')' } as const)[open as '"'] === close
  );
}

function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('/') || /[/?#=]/.test(text);
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * The text quoted back when it is nearly a UID (at most 3 characters besides digits and
 * dots): a person sees the typo. Other text is not repeated, since the error goes to the
 * log and a pasted token or password must not (the reason names the character and place).
 */
function echo(text: string): string {
  const others = text.replace(/[0-9.]/g, '').length;
  return others <= 3 ? `"${shorten(text)}"` : 'The text';
}

/** The UIDs a URL names, level by level, and what named them. */
interface Named {
  study?: string;
  series?: string;
  instance?: string;
}

function parseUrl(text: string): UidSearch {
  let url: URL;
  try {
    url = new URL(text, 'http://relative.invalid');
  } catch {
    throw new UidInputError('The text is neither a UID nor a URL.');
  }
  const parts = [{ path: url.pathname, params: url.searchParams }];
  // A single-page viewer keeps its route in the fragment: `…/#/viewer?StudyInstanceUIDs=…`.
  if (url.hash.length > 1) {
    const inner = new URL(url.hash.slice(1).replace(/^!/, ''), 'http://relative.invalid');
    parts.push({ path: inner.pathname, params: inner.searchParams });
  }
  const named: Named = {};
  const sources = new Set<string>();
  for (const part of parts) {
    const segments = decodedSegments(part.path);
    const params = lowerCaseParams(part.params);
    if (merge(named, fromDicomWebPath(segments), 'path')) sources.add('DICOMweb URL');
    if (merge(named, fromQidoKeys(params), 'query')) sources.add('DICOMweb URL');
    if (merge(named, fromWadoUri(params), 'WADO-URI parameters')) sources.add('WADO-URI URL');
    if (merge(named, fromViewer(segments, params), 'viewer parameters')) sources.add('viewer URL');
  }
  const level: UidLevel | undefined = named.instance
    ? 'instance'
    : named.series
      ? 'series'
      : named.study
        ? 'study'
        : undefined;
  if (!level) {
    throw new UidInputError(
      'No Study, Series or SOP Instance UID in this URL. Recognised: …/studies/{uid}[/series/{uid}[/instances/{uid}]] (WADO-RS, QIDO-RS), ?StudyInstanceUID=… (QIDO-RS), ?requestType=WADO&studyUID=…&seriesUID=…&objectUID=… (WADO-URI), ?StudyInstanceUIDs=… (OHIF).',
    );
  }
  return {
    uid: named[level]!,
    level,
    studyInstanceUid: level === 'study' ? undefined : named.study,
    seriesInstanceUid: level === 'instance' ? named.series : undefined,
    source: [...sources].join(' and '),
  };
}

function decodedSegments(path: string): string[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

/** Parameter names compared without case: `studyUID`, `StudyUID` and `STUDYUID` alike. */
function lowerCaseParams(params: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, value] of params) {
    const list = out.get(key.toLowerCase()) ?? [];
    list.push(value);
    out.set(key.toLowerCase(), list);
  }
  return out;
}

/**
 * Adds what one reading of the URL found; two readings that disagree on a level are an
 * error (a URL whose path names one study and whose query names another).
 */
function merge(into: Named, found: Named, what: string): boolean {
  let any = false;
  for (const level of ['study', 'series', 'instance'] as const) {
    const uid = found[level];
    if (uid === undefined) continue;
    any = true;
    if (into[level] !== undefined && into[level] !== uid) {
      throw new UidInputError(
        `The URL names two different ${LEVEL_NAME[level]}s: ${into[level]} and ${uid} (in its ${what}).`,
      );
    }
    into[level] = uid;
  }
  return any;
}

/** A UID taken from a URL, checked: the sentence names where in the URL it was. */
function checked(uid: string, level: UidLevel, where: string): string {
  const problem = uidProblem(uid);
  if (problem) {
    throw new UidInputError(
      `The ${LEVEL_NAME[level]} in the URL's ${where}, ${echo(uid)}, is not a UID: ${problem} (PS3.5 §9.1).`,
    );
  }
  return uid;
}

/** Whether a path segment is meant as a UID (digits and dots), as opposed to a name. */
function uidShaped(segment: string | undefined): segment is string {
  return segment !== undefined && /^[0-9.]+$/.test(segment);
}

/**
 * `…/studies/{s}[/series/{x}[/instances/{i}]][/metadata|/frames/…|/rendered|…]`
 * (PS3.18 §10.4.1). The first `studies` followed by a UID-shaped segment starts it, so
 * any prefix works, even a partition that is itself called "studies".
 */
function fromDicomWebPath(segments: string[]): Named {
  const start = segments.findIndex(
    (segment, index) => segment === 'studies' && uidShaped(segments[index + 1]),
  );
  if (start < 0) return {};
  const named: Named = { study: checked(segments[start + 1], 'study', 'path') };
  if (segments[start + 2] === 'series' && segments[start + 3] !== undefined) {
    named.series = checked(segments[start + 3], 'series', 'path');
    if (segments[start + 4] === 'instances' && segments[start + 5] !== undefined)
      named.instance = checked(segments[start + 5], 'instance', 'path');
  }
  return named;
}

/** QIDO-RS matching keys by keyword or tag (PS3.18 §8.3.4.1): `?SeriesInstanceUID=…`. */
const QIDO_KEYS: Record<UidLevel, string[]> = {
  study: ['studyinstanceuid', Tag.StudyInstanceUID.toLowerCase()],
  series: ['seriesinstanceuid', Tag.SeriesInstanceUID.toLowerCase()],
  instance: ['sopinstanceuid', Tag.SOPInstanceUID.toLowerCase()],
};

function fromQidoKeys(params: Map<string, string[]>): Named {
  const named: Named = {};
  for (const level of ['study', 'series', 'instance'] as const) {
    const uid = single(params, QIDO_KEYS[level], level, 'query');
    if (uid !== undefined) named[level] = uid;
  }
  return named;
}

/**
 * WADO-URI (PS3.18 §9.1.2.1): `requestType=WADO`, `studyUID`, `seriesUID`, `objectUID`, all
 * three required by the standard; what is there is used.
 */
function fromWadoUri(params: Map<string, string[]>): Named {
  const named: Named = {};
  const keys: Record<UidLevel, string> = {
    study: 'studyuid',
    series: 'seriesuid',
    instance: 'objectuid',
  };
  for (const level of ['study', 'series', 'instance'] as const) {
    const uid = single(params, [keys[level]], level, 'WADO-URI parameters');
    if (uid !== undefined) named[level] = uid;
  }
  return named;
}

/**
 * OHIF: `/viewer?StudyInstanceUIDs=…` (v3; with `initialSeriesInstanceUID`,
 * `initialSOPInstanceUID`), `/viewer/{study}` (v2).
 */
function fromViewer(segments: string[], params: Map<string, string[]>): Named {
  const named: Named = {};
  const study = single(params, ['studyinstanceuids'], 'study', 'viewer parameters');
  if (study !== undefined) named.study = study;
  else {
    const index = segments.indexOf('viewer');
    if (index >= 0 && uidShaped(segments[index + 1]))
      named.study = checked(segments[index + 1], 'study', 'viewer path');
  }
  const series = single(
    params,
    ['initialseriesinstanceuid', 'seriesinstanceuids'],
    'series',
    'viewer parameters',
  );
  if (series !== undefined) named.series = series;
  const instance = single(params, ['initialsopinstanceuid'], 'instance', 'viewer parameters');
  if (instance !== undefined) named.instance = instance;
  return named;
}

/**
 * The one UID under any of `keys`. A list (`a,b` or `a\b`, PS3.18 §8.3.4.1 UID list
 * matching) names several resources: the person must paste one.
 */
function single(
  params: Map<string, string[]>,
  keys: string[],
  level: UidLevel,
  where: string,
): string | undefined {
  const values = [
    ...new Set(
      keys
        .flatMap((key) => params.get(key) ?? [])
        .flatMap((value) => value.split(/[,\\]/))
        .map((value) => value.trim())
        .filter(Boolean),
    ),
  ];
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new UidInputError(
      `The URL names ${values.length} ${LEVEL_NAME[level]}s (${values.map(echo).join(', ')}); paste one of them.`,
    );
  }
  return checked(values[0], level, where);
}
