/**
 * A request cell, read into the client's own request description (`RequestSpec`,
 * src/dicomweb/requests.ts): the same data the tree's commands send and `toCurl` prints.
 *
 * Two syntaxes, both after an optional `# @name first` line (REST Client's way of naming):
 * - HTTP-like: `GET /studies?PatientID=123`, then `Name: value` headers, then after a blank
 *   line a body: `< ./file.dcm` lines (one file: the body; several: STOW-RS multipart) or text.
 *   Lines starting with `?` or `&` right after the request line continue its query.
 * - cURL as pasted from the tutorial (curlParse.ts).
 * The URL is `/path` below the connection's base URL, or starts with `{Service URL}` (with or
 * without the tutorial's `/v{version}`: a connection's URL carries its version already).
 * A pasted `Authorization` header is dropped: the connection supplies its own, and the
 * notebook never holds a credential.
 */
import type { RequestBodySpec, RequestSpec } from '../dicomweb/requests';
import { isCurlCommand, parseCurl } from './curlParse';

export interface NotebookRequest {
  /** `# @name` of the cell, if any. */
  name?: string;
  spec: RequestSpec;
  /** True when a pasted Authorization header (or --user) was dropped. */
  droppedAuthorization: boolean;
  /** What was repaired or ignored while reading, one sentence each. */
  warnings: string[];
}

const METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT', 'HEAD']);
const NAME_LINE = /^\s*(?:#|\/\/)\s*@name\s+([A-Za-z_][\w-]*)\s*$/;

/** The `# @name` of a cell's text, if it has one. */
export function cellName(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const match = NAME_LINE.exec(line);
    if (match) return match[1];
    if (line.trim() !== '' && !/^\s*(#|\/\/)/.test(line)) return undefined;
  }
  return undefined;
}

/**
 * Reads a cell's text (placeholders already resolved, see variables.ts) into a request.
 * `baseUrl` is only used to cut an absolute URL down to its path; another origin is refused,
 * since the connection's credentials must not go there.
 */
export function parseRequestCell(text: string, baseUrl: string): NotebookRequest {
  const name = cellName(text);
  return {
    name,
    ...(isCurlCommand(text) ? fromCurl(text, baseUrl) : fromHttp(text, baseUrl)),
  };
}

type Parsed = Omit<NotebookRequest, 'name'>;

function fromCurl(text: string, baseUrl: string): Parsed {
  const curl = parseCurl(text);
  if (!curl.url) throw new Error('The cURL command has no URL.');
  const warnings = [...curl.warnings];
  const { path, query } = splitUrl(curl.url, baseUrl, warnings);
  const { headers, droppedAuthorization } = keptHeaders(curl.headers);
  const body = curlBody(curl.formFiles, curl.data, headers);
  const method = curl.method ?? (body ? 'POST' : 'GET');
  return {
    spec: withBody(specOf(method, path, query, headers), body),
    droppedAuthorization: droppedAuthorization || curl.warnings.some((w) => w.includes('--user')),
    warnings,
  };
}

function curlBody(
  formFiles: string[],
  data: { file: string } | { text: string } | undefined,
  headers: Record<string, string>,
): RequestBodySpec | undefined {
  if (formFiles.length) return { kind: 'dicom-files', files: formFiles };
  if (!data) return undefined;
  if ('file' in data) return { kind: 'dicom-file', file: data.file };
  return {
    kind: 'text',
    contentType: headers['content-type'] ?? 'application/x-www-form-urlencoded',
    text: data.text,
  };
}

function fromHttp(text: string, baseUrl: string): Parsed {
  const lines = text.split(/\r?\n/);
  let index = lines.findIndex((line) => line.trim() !== '' && !/^\s*(#|\/\/)/.test(line));
  if (index < 0) throw new Error('The cell has no request line (e.g. GET /studies).');
  const match = /^\s*([A-Za-z]+)\s+(\S+)(?:\s+HTTP\/[\d.]+)?\s*$/.exec(lines[index]);
  if (!match || !METHODS.has(match[1].toUpperCase())) {
    throw new Error(
      `"${lines[index].trim().slice(0, 80)}" is not a request line: write METHOD /path, e.g. GET /studies.`,
    );
  }
  let url = match[2];
  for (index++; index < lines.length && /^\s*[?&]/.test(lines[index]); index++) {
    url += lines[index].trim();
  }
  const warnings: string[] = [];
  const { path, query } = splitUrl(url, baseUrl, warnings);
  const rawHeaders: Array<[string, string]> = [];
  for (; index < lines.length && lines[index].trim() !== ''; index++) {
    if (/^\s*(#|\/\/)/.test(lines[index])) continue;
    const colon = lines[index].indexOf(':');
    if (colon <= 0) throw new Error(`"${lines[index].trim().slice(0, 80)}" is not a header line.`);
    rawHeaders.push([lines[index].slice(0, colon).trim(), lines[index].slice(colon + 1).trim()]);
  }
  const { headers, droppedAuthorization } = keptHeaders(rawHeaders);
  const body = httpBody(lines.slice(index + 1), headers);
  return {
    spec: withBody(specOf(match[1].toUpperCase(), path, query, headers), body),
    droppedAuthorization,
    warnings,
  };
}

function httpBody(lines: string[], headers: Record<string, string>): RequestBodySpec | undefined {
  const content = lines.filter((line) => !/^\s*(#|\/\/)/.test(line));
  while (content.length && content[content.length - 1].trim() === '') content.pop();
  while (content.length && content[0].trim() === '') content.shift();
  if (!content.length) return undefined;
  const files = content.map((line) => /^\s*<\s+(.+?)\s*$/.exec(line)?.[1]);
  if (files.every((file) => file !== undefined)) {
    const paths = files as string[];
    const single =
      paths.length === 1 && (headers['content-type'] ?? '').startsWith('application/dicom');
    return single ? { kind: 'dicom-file', file: paths[0] } : { kind: 'dicom-files', files: paths };
  }
  if (files.some((file) => file !== undefined)) {
    throw new Error('A body is either "< file" lines only or text, not both.');
  }
  return {
    kind: 'text',
    contentType: headers['content-type'] ?? 'text/plain',
    text: content.join('\n'),
  };
}

function specOf(
  method: string,
  path: string,
  query: Array<[string, string]>,
  headers: Record<string, string>,
): RequestSpec {
  if (!METHODS.has(method)) throw new Error(`The method ${method} is not one DICOMweb uses.`);
  return {
    method: method as RequestSpec['method'],
    path,
    ...(query.length ? { query } : {}),
    headers,
  };
}

function withBody(spec: RequestSpec, body: RequestBodySpec | undefined): RequestSpec {
  return body ? { ...spec, body } : spec;
}

/** Lower-cased header names (as requests.ts writes them); Authorization dropped. */
function keptHeaders(raw: Array<[string, string]>): {
  headers: Record<string, string>;
  droppedAuthorization: boolean;
} {
  const headers: Record<string, string> = {};
  let droppedAuthorization = false;
  for (const [name, value] of raw) {
    const key = name.toLowerCase();
    if (key === 'authorization') droppedAuthorization = true;
    else headers[key] = value;
  }
  return { headers, droppedAuthorization };
}

/**
 * The path below the base URL and the decoded query pairs. The tutorial's
 * `/studies1.2.826…` (its series-metadata command lost a slash) is repaired with a warning.
 */
export function splitUrl(
  url: string,
  baseUrl: string,
  warnings: string[],
): { path: string; query: Array<[string, string]> } {
  const relative = relativeTo(url.trim(), baseUrl);
  const hash = relative.indexOf('#');
  const withoutHash = hash >= 0 ? relative.slice(0, hash) : relative;
  const mark = withoutHash.indexOf('?');
  let path = mark >= 0 ? withoutHash.slice(0, mark) : withoutHash;
  const search = mark >= 0 ? withoutHash.slice(mark + 1) : '';
  if (!path.startsWith('/')) path = `/${path}`;
  const glued = /^\/(studies|series|instances)(\d)/.exec(path);
  if (glued) {
    warnings.push(`"/${glued[1]}${glued[2]}…" lacked a "/" before the UID; added it.`);
    path = `/${glued[1]}/${path.slice(glued[1].length + 1)}`;
  }
  path = path.replace(/\/+$/, '') || '/';
  const query = search
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const equals = pair.indexOf('=');
      const [key, value] =
        equals >= 0 ? [pair.slice(0, equals), pair.slice(equals + 1)] : [pair, ''];
      return [decode(key), decode(value)];
    });
  return { path: decodePath(path), query };
}

function relativeTo(url: string, baseUrl: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  const base = baseUrl.replace(/\/+$/, '');
  if (url === base) return '/';
  if (url.startsWith(`${base}/`) || url.startsWith(`${base}?`)) return url.slice(base.length);
  throw new Error(
    `${new URL(url).origin}${new URL(url).pathname} is not below the connection's URL (${base}): write the path only (e.g. /studies), so the request goes to the chosen connection.`,
  );
}

function decode(text: string): string {
  try {
    // `+` stays `+` (a time zone offset such as +0100), not the form encoding's space.
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function decodePath(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}
