/**
 * Prints a request as the equivalent `curl` command, in the seed tutorial's own form
 * ("DICOMweb standard APIs with cURL"). Credentials are replaced by a placeholder unless
 * the caller passes the real header value on purpose.
 */
import { redactUrl } from './transport/errors';
import { urlFor, type RequestSpec } from './requests';

export interface CurlOptions {
  baseUrl: string;
  /** The server's REST root for `root: 'server'` requests (Orthanc's tools API). */
  serverRoot?: string;
  /** What kind of credentials the connection uses; decides the placeholder. */
  authKind?: 'none' | 'bearer' | 'basic';
  /** The real Authorization header value; only when the user asked for it. */
  authorization?: string;
  /** Extra headers configured on the connection (values are printed). */
  headers?: Record<string, string>;
  /** Line continuation: `\` for POSIX shells (default), `^` for cmd, `` ` `` for PowerShell. */
  continuation?: '\\' | '^' | '`';
  /** File name for `--output` on binary responses. */
  outputFile?: string;
}

export const TOKEN_PLACEHOLDER = '{token value}';
export const BASIC_PLACEHOLDER = '{base64 user:password}';

export function toCurl(spec: RequestSpec, options: CurlOptions): string {
  const url = redactUrl(urlFor(options.baseUrl, spec, options.serverRoot));
  const lines: string[] = [`curl --request ${spec.method} ${quote(url)}`];
  const headers: Record<string, string> = { ...options.headers, ...spec.headers };
  const isMultipartUpload = spec.body?.kind === 'dicom-files';
  for (const [name, value] of Object.entries(headers)) {
    lines.push(`--header ${quote(`${headerName(name)}: ${value}`)}`);
  }
  const authorization =
    options.authorization ??
    (options.authKind === 'bearer'
      ? `Bearer ${TOKEN_PLACEHOLDER}`
      : options.authKind === 'basic'
        ? `Basic ${BASIC_PLACEHOLDER}`
        : undefined);
  if (authorization) lines.push(`--header ${quote(`Authorization: ${authorization}`)}`);

  const body = spec.body;
  if (body?.kind === 'dicom-files' && isMultipartUpload) {
    // curl builds the multipart body and appends its own boundary to the given Content-Type,
    // exactly as the seed's `--form "file1=@...;type=application/dicom"` does.
    body.files.forEach((file, index) =>
      lines.push(`--form ${quote(`file${index + 1}=@${file};type=application/dicom`)}`),
    );
  } else if (body?.kind === 'dicom-file') {
    lines.push(`--data-binary ${quote(`@${body.file}`)}`);
  } else if (body?.kind === 'text') {
    lines.push(`--data-binary ${quote(body.text)}`);
  }
  if (spec.binaryResponse) lines.push(`--output ${quote(options.outputFile ?? 'response.bin')}`);
  return lines.join(` ${options.continuation ?? '\\'}\n  `);
}

function headerName(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}

/**
 * Double quotes as in the tutorial, with the characters a POSIX shell expands escaped.
 * `!` cannot be escaped inside double quotes: interactive bash expands history there and
 * `\!` keeps its backslash, so it leaves the quotes as `'!'` ("a"'!'"b" is one word, a!b).
 */
function quote(value: string): string {
  const escaped = value.replace(/[\\"$`]/g, (char) => `\\${char}`);
  return `"${escaped.split('!').join(`"'!'"`)}"`;
}
