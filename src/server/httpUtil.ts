/**
 * Small HTTP pieces of the local server: error answers, JSON answers, Accept parsing
 * (RFC 9110 §12.5.1, PS3.18 §8.7.3.5.2), query strings decoded the way a conformant server
 * decodes them.
 *
 * Plain Node: no `vscode` import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  innerMediaType,
  parseAccept,
  transferSyntaxFromType,
  type AcceptRange,
} from '../mime/contentType';

/** An error answer: status and one sentence for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/**
 * Sends a JSON error body `{ status, error, message }` (the standard defines no body for these).
 */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ status, error: REASONS[status] ?? 'Error', message });
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Sends DICOM JSON (PS3.18 Annex F) or plain JSON with its length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  contentType = 'application/dicom+json',
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': `${contentType}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

// Accept (RFC 9110 §12.5.1) is read by the one media-type parser of src/mime.
export { parseAccept, type AcceptRange };

/** Whether an Accept header allows a JSON answer (QIDO-RS, metadata, STOW-RS responses). */
export function acceptsJson(header: string | undefined): boolean {
  return parseAccept(header).some((range) =>
    ['application/dicom+json', 'application/json', '*/*', 'application/*'].includes(
      range.mediaType,
    ),
  );
}

/**
 * The `transfer-syntax` asked by a media range: its own parameter, or one nested in a quoted
 * `type` (Orthanc writes `type="application/dicom; transfer-syntax=…"`).
 */
export function transferSyntaxOfRange(range: AcceptRange): string | undefined {
  return transferSyntaxFromType(range.params);
}

/** The media type inside `type=` of a multipart range, without parameters. */
export function innerTypeOfRange(range: AcceptRange): string | undefined {
  return innerMediaType(range.params);
}

/**
 * Query parameters in order, decoded as `application/x-www-form-urlencoded` (`+` is a space,
 * `%XX` escapes, WHATWG URL §5.1) — as ASP.NET Core (the Azure DICOM service) decodes them.
 * Orthanc does not decode them; a conformant server must (RFC 3986 §2.1).
 * @throws {HttpError} 400 for a malformed escape
 */
export function parseQuery(search: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (!text) return out;
  for (const piece of text.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const rawKey = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    try {
      out.push([
        decodeURIComponent(rawKey.replace(/\+/g, ' ')),
        decodeURIComponent(rawValue.replace(/\+/g, ' ')),
      ]);
    } catch {
      throw new HttpError(
        400,
        `malformed percent-escape in query parameter "${rawKey.slice(0, 40)}"`,
      );
    }
  }
  return out;
}

/**
 * Closes a connection the way RFC 9112 §9.6 asks when the client may still be sending:
 * our side is half-closed once the answer is out, and what still arrives is read and
 * dropped until the client closes or `lingerMs` pass. Node's server would close the socket
 * as soon as the answer is written (`destroySoon`); with bytes still arriving, the kernel
 * then sends a reset that can wipe the answer from the client's receive queue.
 * Call it before the answer is sent.
 */
export function closeAfterAnswer(req: IncomingMessage, lingerMs: number): void {
  const socket = req.socket;
  // Node's http server calls destroySoon() when a `Connection: close` answer has finished.
  socket.destroySoon = function lingeringClose(this: typeof socket): void {
    if (this.destroyed) return;
    this.end();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
  // Whatever the parser still delivers of the body is dropped, never buffered.
  req.resume();
}

/**
 * Reads and discards the rest of a request body, so a keep-alive connection stays usable and
 * the client sees the answer instead of a reset; past `maxBytes` the connection is closed
 * instead (a refused upload is not worth reading to its end).
 */
export async function drain(req: IncomingMessage, maxBytes = Infinity): Promise<void> {
  if (req.readableEnded) return;
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).byteLength;
    if (total > maxBytes) {
      req.socket.destroy();
      return;
    }
  }
}
