/**
 * Typed errors of the DICOMweb client. Every error carries the method and the URL of the
 * request (never a credential: tokens travel in headers, and user-info is stripped from
 * URLs by {@link redactUrl}) and, for HTTP errors, the status and the server's own message.
 */

export type DicomWebErrorCode =
  /** The server answered with a non-success status. */
  | 'HTTP_STATUS'
  /** The request never got an answer (DNS, refused, reset, TLS). */
  | 'NETWORK'
  /** No answer (headers or next body bytes) within the configured time. */
  | 'TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'CANCELLED'
  /** The server answered 2xx with a body this client cannot understand. */
  | 'MALFORMED_RESPONSE'
  /** The request itself is invalid (bad UID, bad option) and was never sent. */
  | 'INVALID_REQUEST'
  /** The server kind does not offer this operation. */
  | 'UNSUPPORTED'
  /** A long-running operation the server started (Google's delete) ended in an error. */
  | 'OPERATION_FAILED'
  /** The worker thread a download ran in failed or stopped early (downloadWorker.ts). */
  | 'WORKER_FAILED'
  /**
   * The answer's body is larger than the client's cap for what it is read as (limits.ts:
   * JSON, binary, error bodies): refused from its declared Content-Length before reading, or
   * as soon as the bytes received cross the cap, so a server cannot exhaust the memory.
   */
  | 'TOO_LARGE';

export interface DicomWebErrorDetails {
  method?: string;
  url?: string;
  status?: number;
  serverMessage?: string;
  cause?: unknown;
}

export class DicomWebError extends Error {
  override readonly name: string = 'DicomWebError';
  readonly code: DicomWebErrorCode;
  readonly method?: string;
  /** The request URL with any user-info removed. */
  readonly url?: string;
  /** The HTTP status, when the server answered. */
  readonly status?: number;
  /**
   * What the server said about the failure (DICOM JSON ErrorComment, Orthanc's Message, text body).
   */
  readonly serverMessage?: string;

  constructor(code: DicomWebErrorCode, message: string, details: DicomWebErrorDetails = {}) {
    // Messages are built from request URLs in many places; strip user-info from all of
    // them here so no path can leak `user:password@` into a log or a notification.
    super(
      redactUrlsIn(message),
      details.cause !== undefined ? { cause: details.cause } : undefined,
    );
    this.code = code;
    this.method = details.method;
    this.url = details.url !== undefined ? redactUrl(details.url) : undefined;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
  }
}

/**
 * A non-success HTTP status. `body` holds the parsed DICOM JSON or JSON body when there was one.
 */
export class DicomWebHttpError extends DicomWebError {
  override readonly name = 'DicomWebHttpError';
  override readonly status: number;
  readonly statusText: string;
  readonly body?: unknown;
  readonly retryAfterMs?: number;
  /**
   * Set on a 401 to a request with a streamed body: the auth provider was asked to refresh
   * and said it has new credentials, so the caller may rebuild the body and send it again.
   */
  credentialsRefreshed?: boolean;
  /**
   * Whether the refused request carried credentials (RFC 9110 §15.5.2: a 401 then refuses them).
   */
  credentialSent?: boolean;

  constructor(
    method: string,
    url: string,
    status: number,
    statusText: string,
    serverMessage: string | undefined,
    body?: unknown,
    retryAfterMs?: number,
  ) {
    const said = serverMessage ? `: ${serverMessage}` : '';
    super('HTTP_STATUS', `${method} ${redactUrl(url)} failed with ${status} ${statusText}${said}`, {
      method,
      url,
      status,
      serverMessage,
    });
    this.status = status;
    this.statusText = statusText;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

export function isCancellation(error: unknown): boolean {
  return error instanceof DicomWebError && error.code === 'CANCELLED';
}

/** Removes user-info (`user:password@`) from a URL so it can be logged and shown. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1');
}

/** {@link redactUrl} for every URL inside a text (an error message). */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@?#\s]*@/gi, '$1');
}

/** Reason phrases for the statuses DICOMweb servers use (RFC 9110 §15). */
export const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  424: 'Failed Dependency',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
