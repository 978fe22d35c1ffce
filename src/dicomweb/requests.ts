/**
 * Every DICOMweb request the client can send, described as data: method, path, query,
 * headers and body. The client sends these; `toCurl` prints the same description as the
 * seed tutorial's cURL command. One source of truth for URLs and Accept headers.
 */
import { DicomWebError } from './transport/errors';

export const MEDIA = {
  dicomJson: 'application/dicom+json',
  dicom: 'application/dicom',
  octetStream: 'application/octet-stream',
  png: 'image/png',
  jpeg: 'image/jpeg',
} as const;

/** Explicit VR Little Endian: the default transfer syntax of PS3.18 §8.7.3.5.2. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

export type RequestBodySpec =
  /** STOW-RS multipart/related of whole Part 10 files (PS3.18 §10.5.1.1). */
  | { kind: 'dicom-files'; files: string[] }
  /** Azure's non-standard single-part STOW: the file is the body. */
  | { kind: 'dicom-file'; file: string }
  | { kind: 'text'; contentType: string; text: string };

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD';
  /** Path below the service base URL, starting with `/`; its UIDs are validated. */
  path: string;
  /** Query parameters in order; values are sent as raw as the URL syntax allows. */
  query?: Array<[string, string]>;
  headers: Record<string, string>;
  body?: RequestBodySpec;
  /** `--output` hint for cURL (retrievals write bytes, not text). */
  binaryResponse?: boolean;
  /** Whether the request goes to the server's non-DICOMweb REST root (Orthanc, dcm4chee). */
  root?: 'dicomweb' | 'server';
}

/** UIDs, as Azure and PS3.5 §9.1 allow them: 1–64 of digits, letters, `.` and `-` (never `/`). */
const UID_PATTERN = /^[0-9A-Za-z.-]{1,64}$/;

export function assertUid(uid: string, what: string): string {
  if (typeof uid !== 'string' || !UID_PATTERN.test(uid) || uid.includes('..')) {
    throw new DicomWebError(
      'INVALID_REQUEST',
      `${what} "${String(uid).slice(0, 80)}" is not a valid UID`,
    );
  }
  return uid;
}

/**
 * Encodes a query value leaving `^ * ? , - . _ ~ : @ / ( ) ! ' ;` raw. PS3.18 §8.3.4 values
 * such as `Doe^J*` or UID lists must reach the server unchanged: Orthanc does not
 * percent-decode search values, so `%5E` would match nothing. Characters the URL syntax
 * reserves for itself (`& # % + =` and space) and non-ASCII are percent-encoded.
 */
export function encodeQueryValue(value: string): string {
  let out = '';
  for (const char of value) {
    if (/^[A-Za-z0-9\-._~^*?,:@/()!';]$/.test(char)) out += char;
    else
      out += encodeURIComponent(char).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      );
  }
  return out;
}

export function queryString(query: Array<[string, string]> | undefined): string {
  if (!query || query.length === 0) return '';
  return (
    '?' +
    query.map(([key, value]) => `${encodeQueryValue(key)}=${encodeQueryValue(value)}`).join('&')
  );
}

/** The service base URL without a trailing slash; keeps `/v2` and `/partitions/{name}`. */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new DicomWebError('INVALID_REQUEST', `"${baseUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DicomWebError('INVALID_REQUEST', `"${baseUrl}" must start with http:// or https://`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/**
 * Why a typed service URL cannot be used, with the fix when there is an obvious one
 * (undefined when it can). `localhost:8042/dicom-web` parses as a URL of scheme `localhost:`
 * and `pacs.example.org/dicom-web` not at all: both only lack `http(s)://` (RFC 3986 §3).
 */
export function baseUrlProblem(value: string): string | undefined {
  const typed = value.trim();
  if (!typed) return 'Enter the service URL, e.g. https://pacs.example.org/dicom-web';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(typed)) {
    const loopback = /^(localhost|127\.|\[::1\])/i.test(typed);
    const suggestion = `${loopback ? 'http' : 'https'}://${typed.replace(/^\/+/, '')}`;
    try {
      normalizeBaseUrl(suggestion);
      return `Add the scheme: ${suggestion}`;
    } catch {
      // Not a URL even with a scheme: the general message below.
    }
  }
  try {
    normalizeBaseUrl(typed);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function urlFor(baseUrl: string, spec: RequestSpec, serverRoot?: string): string {
  const root = spec.root === 'server' ? (serverRoot ?? baseUrl) : baseUrl;
  return normalizeBaseUrl(root) + spec.path + queryString(spec.query);
}

// ---------------------------------------------------------------------------------------
// QIDO-RS (PS3.18 §10.6)

export type QidoLevel = 'studies' | 'series' | 'instances';

/** Where a search looks: the six resource forms of PS3.18 §10.6.1.2 (and the seed). */
export interface QidoScope {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
}

export interface QidoQuery {
  /**
   * Matching attributes by keyword (`PatientName`) or tag (`00100010`): wildcards `*` `?`,
   * date/time ranges `20200101-20201231`, UID lists as arrays or comma-joined (§8.3.4.1).
   */
  match?: Record<string, string | number | ReadonlyArray<string> | undefined>;
  /** Extra attributes to return (§8.3.4.3), or `'all'`. */
  includeField?: ReadonlyArray<string> | 'all';
  /** Fuzzy person-name matching (§8.3.4.4); many servers ignore it. */
  fuzzyMatching?: boolean;
  limit?: number;
  offset?: number;
  /** Vendor parameters passed as they are. */
  params?: Record<string, string>;
}

export function qidoPath(level: QidoLevel, scope: QidoScope = {}): string {
  const { studyInstanceUid: study, seriesInstanceUid: series } = scope;
  if (series && !study) {
    throw new DicomWebError('INVALID_REQUEST', 'a series scope needs its study (PS3.18 §10.6.1.2)');
  }
  if (level === 'studies') {
    if (study)
      throw new DicomWebError('INVALID_REQUEST', 'a study search cannot be scoped to a study');
    return '/studies';
  }
  if (level === 'series') {
    if (series)
      throw new DicomWebError('INVALID_REQUEST', 'a series search cannot be scoped to a series');
    return study ? `/studies/${assertUid(study, 'StudyInstanceUID')}/series` : '/series';
  }
  if (study && series) {
    return `/studies/${assertUid(study, 'StudyInstanceUID')}/series/${assertUid(series, 'SeriesInstanceUID')}/instances`;
  }
  return study ? `/studies/${assertUid(study, 'StudyInstanceUID')}/instances` : '/instances';
}

export function qidoQueryParams(query: QidoQuery = {}): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(query.match ?? {})) {
    if (value === undefined || value === '') continue;
    params.push([key, Array.isArray(value) ? value.join(',') : String(value)]);
  }
  if (query.includeField === 'all') params.push(['includefield', 'all']);
  else if (query.includeField?.length) params.push(['includefield', query.includeField.join(',')]);
  if (query.fuzzyMatching) params.push(['fuzzymatching', 'true']);
  if (query.limit !== undefined) params.push(['limit', String(query.limit)]);
  if (query.offset !== undefined && query.offset > 0) params.push(['offset', String(query.offset)]);
  for (const [key, value] of Object.entries(query.params ?? {})) params.push([key, value]);
  return params;
}

export function searchRequest(
  level: QidoLevel,
  scope: QidoScope = {},
  query: QidoQuery = {},
): RequestSpec {
  return {
    method: 'GET',
    path: qidoPath(level, scope),
    query: qidoQueryParams(query),
    headers: { accept: MEDIA.dicomJson },
  };
}

// ---------------------------------------------------------------------------------------
// WADO-RS (PS3.18 §10.4)

export interface InstancePath {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

export function resourcePath(target: InstancePath): string {
  let path = `/studies/${assertUid(target.studyInstanceUid, 'StudyInstanceUID')}`;
  if (target.seriesInstanceUid)
    path += `/series/${assertUid(target.seriesInstanceUid, 'SeriesInstanceUID')}`;
  if (target.sopInstanceUid) {
    if (!target.seriesInstanceUid)
      throw new DicomWebError('INVALID_REQUEST', 'an instance needs its series');
    path += `/instances/${assertUid(target.sopInstanceUid, 'SOPInstanceUID')}`;
  }
  return path;
}

/** `transfer-syntax` parameter of an Accept media type (§8.7.3.5.2); `*` = as stored. */
function withSyntax(mediaType: string, transferSyntax: string | undefined): string {
  return transferSyntax ? `${mediaType}; transfer-syntax=${transferSyntax}` : mediaType;
}

export interface RetrieveOptions {
  /**
   * `*` (as stored, the seed's choice and the default here), a UID, or undefined for the server
   * default.
   */
  transferSyntax?: string;
}

/** Retrieve a study, series or instance as multipart/related application/dicom (§10.4.1.1.1). */
export function retrieveRequest(target: InstancePath, options: RetrieveOptions = {}): RequestSpec {
  const syntax = 'transferSyntax' in options ? options.transferSyntax : '*';
  return {
    method: 'GET',
    path: resourcePath(target),
    headers: { accept: withSyntax('multipart/related; type="application/dicom"', syntax) },
    binaryResponse: true,
  };
}

/**
 * The seed's single-part instance retrieve (`Accept: application/dicom; transfer-syntax=*`), an
 * Azure form.
 */
export function retrieveInstanceSinglePartRequest(
  target: InstancePath,
  options: RetrieveOptions = {},
): RequestSpec {
  const syntax = 'transferSyntax' in options ? options.transferSyntax : '*';
  return {
    method: 'GET',
    path: resourcePath(target),
    headers: { accept: withSyntax(MEDIA.dicom, syntax) },
    binaryResponse: true,
  };
}

export function metadataRequest(target: InstancePath): RequestSpec {
  return {
    method: 'GET',
    path: `${resourcePath(target)}/metadata`,
    headers: { accept: MEDIA.dicomJson },
  };
}

export interface FramesOptions {
  /** `*` returns each frame as stored with its own media type (image/jpeg, image/jp2 …). */
  transferSyntax?: string;
}

export function framesRequest(
  target: Required<InstancePath>,
  frames: ReadonlyArray<number>,
  options: FramesOptions = {},
): RequestSpec {
  if (frames.length === 0 || frames.some((frame) => !Number.isInteger(frame) || frame < 1)) {
    throw new DicomWebError('INVALID_REQUEST', 'frame numbers start at 1 (PS3.18 §10.4.1.1.3)');
  }
  return {
    method: 'GET',
    path: `${resourcePath(target)}/frames/${frames.join(',')}`,
    headers: {
      accept: withSyntax(
        'multipart/related; type="application/octet-stream"',
        options.transferSyntax,
      ),
    },
    binaryResponse: true,
  };
}

export interface RenderedOptions {
  mediaType?: 'image/png' | 'image/jpeg';
  /** `viewport=width,height` (§8.3.5.1.3). */
  viewport?: { width: number; height: number };
  /** 1–100, JPEG only (§8.3.5.1.2). */
  quality?: number;
  /** `window=center,width,function` (§8.3.5.1.4). */
  window?: { center: number; width: number; function?: 'linear' | 'linear-exact' | 'sigmoid' };
}

export function renderedRequest(
  target: Required<InstancePath>,
  frame: number | undefined,
  options: RenderedOptions = {},
): RequestSpec {
  const query: Array<[string, string]> = [];
  if (options.viewport)
    query.push(['viewport', `${options.viewport.width},${options.viewport.height}`]);
  if (options.quality !== undefined) query.push(['quality', String(options.quality)]);
  if (options.window) {
    const { center, width } = options.window;
    query.push(['window', `${center},${width},${options.window.function ?? 'linear'}`]);
  }
  const framePart = frame !== undefined ? `/frames/${frame}` : '';
  return {
    method: 'GET',
    path: `${resourcePath(target)}${framePart}/rendered`,
    query,
    headers: { accept: options.mediaType ?? MEDIA.png },
    binaryResponse: true,
  };
}

// ---------------------------------------------------------------------------------------
// STOW-RS (PS3.18 §10.5)

/**
 * `method: 'PUT'` is the Azure DICOM service's upsert (conformance statement v2, "Store"):
 * the same request, an instance already stored replaced instead of refused.
 */
export function storeRequest(
  files: string[],
  studyInstanceUid?: string,
  method: 'POST' | 'PUT' = 'POST',
): RequestSpec {
  return {
    method,
    path: studyInstanceUid
      ? `/studies/${assertUid(studyInstanceUid, 'StudyInstanceUID')}`
      : '/studies',
    headers: {
      accept: MEDIA.dicomJson,
      'content-type': 'multipart/related; type="application/dicom"',
    },
    body: { kind: 'dicom-files', files },
  };
}

export function storeSinglePartRequest(file: string, method: 'POST' | 'PUT' = 'POST'): RequestSpec {
  return {
    method,
    path: '/studies',
    headers: { accept: MEDIA.dicomJson, 'content-type': MEDIA.dicom },
    body: { kind: 'dicom-file', file },
  };
}

// ---------------------------------------------------------------------------------------
// DELETE (not in PS3.18; Azure, Microsoft DICOM server and Google use the resource path)

export function deleteRequest(target: InstancePath): RequestSpec {
  return { method: 'DELETE', path: resourcePath(target), headers: {} };
}
