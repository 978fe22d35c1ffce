/**
 * A request as code: Python with the `dicomweb-client` package (ImagingDataCommons,
 * https://dicomweb-client.readthedocs.io/en/latest/package.html) and JavaScript with the npm
 * `dicomweb-client` (dcmjs-org). Both print the credential as a placeholder, never the token.
 * The request is read back from its PS3.18 path (§10.4 retrieve, §10.5 store, §10.6 search),
 * so any request the extension can describe gets the library's own call when it has one.
 */
import { BASIC_PLACEHOLDER, TOKEN_PLACEHOLDER } from '../dicomweb/curl';
import { normalizeBaseUrl, urlFor, type RequestSpec } from '../dicomweb/requests';

export interface CodeOptions {
  baseUrl: string;
  authKind?: 'none' | 'bearer' | 'basic';
  /** Extra headers configured on the connection (printed as they are). */
  headers?: Record<string, string>;
}

type Op = 'search' | 'retrieve' | 'metadata' | 'frames' | 'rendered' | 'store' | 'delete';

/** What a request asks for, in the library's terms. */
export interface LibraryCall {
  op: Op;
  level: 'studies' | 'series' | 'instances';
  study?: string;
  series?: string;
  instance?: string;
  frames?: number[];
  mediaType?: string;
  transferSyntax?: string;
  query: Array<[string, string]>;
  files: string[];
}

const PATH =
  /^(?:\/studies(?:\/([^/]+)(?:\/series(?:\/([^/]+)(?:\/instances(?:\/([^/]+))?)?)?|\/instances)?)?|\/series|\/instances)(\/metadata|\/frames\/([\d,]+)(\/rendered)?|\/rendered)?$/;

/** The library call of a request, or undefined when it has none (e.g. a server's own API). */
export function libraryCall(spec: RequestSpec): LibraryCall | undefined {
  if (spec.root === 'server') return undefined;
  const match = PATH.exec(spec.path);
  if (!match) return undefined;
  const [, study, series, instance, tail, frameList, framesRendered] = match;
  const resource = spec.path.slice(0, spec.path.length - (tail?.length ?? 0));
  const collection = /\/(studies|series|instances)$/.exec(resource)?.[1] as
    LibraryCall['level'] | undefined;
  const level = collection ?? (instance ? 'instances' : series ? 'series' : 'studies');
  const accept = spec.headers.accept ?? spec.headers.Accept ?? '';
  const call: LibraryCall = {
    op: 'retrieve',
    level,
    study,
    series,
    instance,
    query: spec.query ?? [],
    files:
      spec.body?.kind === 'dicom-files'
        ? spec.body.files
        : spec.body?.kind === 'dicom-file'
          ? [spec.body.file]
          : [],
    mediaType: /type="([^"]+)"/.exec(accept)?.[1] ?? accept.split(';')[0]?.trim(),
    transferSyntax: /transfer-syntax=([^;\s]+)/.exec(accept)?.[1],
  };
  if (frameList) call.frames = frameList.split(',').map(Number);
  if (spec.method === 'DELETE') return { ...call, op: 'delete' };
  if (spec.method === 'POST') return call.files.length ? { ...call, op: 'store' } : undefined;
  if (spec.method !== 'GET') return undefined;
  if (tail === '/metadata') return { ...call, op: 'metadata' };
  if (framesRendered || tail === '/rendered') return { ...call, op: 'rendered' };
  if (frameList) return { ...call, op: 'frames' };
  // A path that names a collection is a search (§10.6); one that names a resource, a retrieve.
  return collection ? { ...call, op: 'search' } : call;
}

export function authorizationPlaceholder(kind: CodeOptions['authKind']): string | undefined {
  if (kind === 'bearer') return `Bearer ${TOKEN_PLACEHOLDER}`;
  if (kind === 'basic') return `Basic ${BASIC_PLACEHOLDER}`;
  return undefined;
}

/** The connection's headers plus the credential placeholder (never a real token). */
export function clientHeaders(options: CodeOptions): Record<string, string> {
  const headers = { ...options.headers };
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') delete headers[name];
  }
  const authorization = authorizationPlaceholder(options.authKind);
  if (authorization) headers.Authorization = authorization;
  return headers;
}

/** QIDO-RS query keys the libraries take as their own arguments (PS3.18 §8.3.4). */
export const QIDO_OPTIONS = new Set(['limit', 'offset', 'fuzzymatching', 'includefield']);

export function searchFilters(query: Array<[string, string]>): Array<[string, string]> {
  return query.filter(([key]) => !QIDO_OPTIONS.has(key.toLowerCase()));
}

export function queryValue(query: Array<[string, string]>, key: string): string | undefined {
  return query.find(([name]) => name.toLowerCase() === key)?.[1];
}

export function requestUrl(spec: RequestSpec, options: CodeOptions): string {
  return urlFor(options.baseUrl, spec);
}

export function serviceUrl(options: CodeOptions): string {
  return normalizeBaseUrl(options.baseUrl);
}
