/**
 * The HTTP transport of the DICOMweb client, on undici: one keep-alive pool per origin,
 * streaming request and response bodies, timeouts, AbortSignal cancellation, retries with
 * backoff for idempotent requests, 401 → credential refresh, and one log entry a request.
 */
import { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { Dispatcher } from './undici';
import type { AuthProvider } from './auth';
import { DicomWebError, DicomWebHttpError, redactUrl, STATUS_TEXT } from './errors';
import {
  MAX_INTERIM_RESPONSES,
  socketGet,
  socketGetSupports,
  type SocketGetCall,
  type SocketGetOptions,
  type SocketGetOutcome,
} from './socketGet';
import { CredentialScope } from './origins';
import { tlsContext, type TlsOptions } from './tls';
import {
  countedBody,
  Deadline,
  declaredLengthOver,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_BINARY_BODY_BYTES,
  DEFAULT_MAX_JSON_BODY_BYTES,
  DEFAULT_MINIMUM_RATE,
  rateWatchedBody,
  tooLarge,
  type BodySizeLimits,
  type MinimumRate,
} from './limits';
import { Tag } from '../../dicom/tags';
import { readWholeBody } from '../../mime/body';

export interface TimeoutOptions {
  /** Time to establish a connection (default 10 s). */
  connectMs?: number;
  /** Time to receive the response headers once the request is sent (default 60 s). */
  headersMs?: number;
  /**
   * Longest silence between two body chunks (default 120 s): large retrieves are never cut off
   * while data flows.
   */
  bodyMs?: number;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay (default 250 ms), doubled each attempt, with jitter. */
  minDelayMs?: number;
  /** Longest single wait, also the cap for Retry-After (default 20 s). */
  maxDelayMs?: number;
}

/** One line of the request log: never a header, so never a token. */
export interface RequestLogEntry {
  method: string;
  url: string;
  status?: number;
  durationMs: number;
  attempt: number;
  error?: string;
}

export interface HttpOptions {
  auth?: AuthProvider;
  headers?: Record<string, string>;
  tls?: TlsOptions;
  timeouts?: TimeoutOptions;
  retry?: RetryOptions;
  /** Connections per origin (default 8). */
  connections?: number;
  /** Called once per attempt, when its headers arrived or it failed. */
  onRequest?: (entry: RequestLogEntry) => void;
  /**
   * An HTTP(S) or SOCKS proxy for every request (`http://host:3128`; credentials in the URL
   * are sent as Proxy-Authorization): https services through a CONNECT tunnel, http ones
   * in absolute form (RFC 9112 §3.2.2). See proxy.ts for choosing it. Never logged.
   */
  proxy?: string;
  /** Use this dispatcher instead of creating one (tests). */
  dispatcher?: Dispatcher;
  /**
   * The connection's service URL: its origin (scheme, host, port) is the one that gets the
   * credentials and the configured `headers` (origins.ts). Without it and without
   * `trustedOrigins`, every request gets them (a bare transport has no connection).
   */
  baseUrl?: string;
  /**
   * Further origins (`https://host:port`, or any URL of them) that may receive the
   * credentials, e.g. a separate bulk data host of the same service. Default none.
   */
  trustedOrigins?: string[];
  /** Size caps for bodies read into memory (limits.ts), per kind. */
  maxBodyBytes?: BodySizeLimits;
  /**
   * Overall deadline of a request whose body is read into memory, retries included
   * (default {@link DEFAULT_DEADLINE_MS}, 0 for none). Streamed retrieves have none.
   */
  deadlineMs?: number;
  /**
   * The slowest a streamed retrieve may be (default {@link DEFAULT_MINIMUM_RATE}; `null`
   * for no minimum): it has no overall deadline, so this ends a trickle.
   */
  minimumRate?: MinimumRate | null;
}

/** The limits a transport applies, with the defaults filled in. */
export interface ResolvedLimits {
  json: number;
  binary: number;
  /** 0: none. */
  deadlineMs: number;
  /** Undefined: none. */
  minimumRate?: MinimumRate;
}

export type RequestBody = Uint8Array | string | AsyncIterable<Uint8Array> | Readable;

export interface HttpRequest {
  /** PATCH: Azure's `PATCH /extendedquerytags/{tag}` (never retried: not idempotent). */
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  /** A streamed body is sent once: requests with one are never retried. */
  body?: RequestBody;
  signal?: AbortSignal;
  /** Statuses the caller handles itself instead of getting a {@link DicomWebHttpError}. */
  acceptStatus?: (status: number) => boolean;
  /** Overrides the idempotency rule (RFC 9110 §9.2.2) for retries. */
  retry?: boolean;
  /**
   * Whether a 401 asks the auth provider to refresh (default true; false for a resend after one).
   */
  refreshCredentials?: boolean;
  /**
   * Cap on the success body (limits.ts): a declared Content-Length over it is refused before
   * reading, and the body fails with TOO_LARGE as soon as more arrives. Default: none (streams).
   */
  maxBodyBytes?: number;
  /** Overall deadline from the first attempt to the end of the body (default: none). */
  deadlineMs?: number;
  /** The slowest the success body may arrive (default: no minimum). */
  minimumRate?: MinimumRate;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The streamed body; read it fully or call {@link HttpResponse.dump}. */
  body: Readable;
  url: string;
  method: string;
  /**
   * Whether the request carried an Authorization header (a 401 then means "refused", not
   * "missing").
   */
  credentialSent?: boolean;
  dump(): Promise<void>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
/** PS3.18 §8.6.2 and RFC 9110: the statuses worth another try. */
const RETRYABLE_STATUS = new Set([408, 429, 503, 504]);
/** The one read buffer of {@link HttpTransport.getFromSocket}. */
const SOCKET_READ_BUFFER_BYTES = 256 * 1024;
/**
 * Error bodies are read for their message only up to this size, then dropped unread: a
 * message is a line or a small JSON (nginx's default error pages are under 1 KiB).
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export class HttpTransport {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /**
   * One TLS context for every connection of this transport, undici's and the socket
   * reader's, when the caller gives CAs or a client certificate: built per connection
   * from a list of ~260 CAs (the OS store's, src/config/certificates.ts) it costs ~18 ms
   * (measured with Node 24), and the socket reader opens a connection per retrieve.
   */
  private readonly secureContext?: SecureContext;
  private readonly credentialScope: CredentialScope;
  /** The size caps and deadline for bodies read into memory, defaults filled in. */
  readonly limits: ResolvedLimits;

  constructor(private readonly options: HttpOptions = {}) {
    this.credentialScope = new CredentialScope(options.baseUrl, options.trustedOrigins);
    this.limits = {
      json: options.maxBodyBytes?.json ?? DEFAULT_MAX_JSON_BODY_BYTES,
      binary: options.maxBodyBytes?.binary ?? DEFAULT_MAX_BINARY_BODY_BYTES,
      deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
      minimumRate:
        options.minimumRate === null ? undefined : (options.minimumRate ?? DEFAULT_MINIMUM_RATE),
    };
    this.secureContext = tlsContext(options.tls ?? {});
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      const tls = options.tls ?? {};
      // undici (and the compile of its llhttp WebAssembly) loads with the first client, not
      // when the extension activates: about half of the bundle's load time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Agent, ProxyAgent } = require('./undici') as typeof import('./undici');
      const common = {
        connections: options.connections ?? 8,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        // A server's `Keep-Alive: timeout=N` hint (RFC 9112 §9.3 leaves idle closing to
        // either side) is used minus this margin. undici's default margin, 2 s, is more than
        // Orthanc's whole hint (CivetWeb: `timeout=1`), so every response closed its
        // connection and every request paid a new connect (test/client/keepAlive.test.ts).
        // 0.5 s still keeps a request off a socket the server is about to close.
        keepAliveTimeoutThreshold: 500,
        connectTimeout: options.timeouts?.connectMs ?? 10_000,
        headersTimeout: options.timeouts?.headersMs ?? 60_000,
        bodyTimeout: options.timeouts?.bodyMs ?? 120_000,
      };
      const targetTls = {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        passphrase: tls.passphrase,
        secureContext: this.secureContext,
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
      };
      // Through a proxy the service's TLS settings apply to the tunnelled connection.
      this.dispatcher = options.proxy
        ? new ProxyAgent({ ...common, uri: options.proxy, requestTls: targetTls })
        : new Agent({ ...common, connect: targetTls });
      this.ownsDispatcher = true;
    }
  }

  /**
   * Sends a request and resolves once the response headers are in. Non-success statuses
   * reject with {@link DicomWebHttpError} (unless `acceptStatus` takes them); transport
   * failures reject with a {@link DicomWebError} of code NETWORK, TIMEOUT or CANCELLED.
   */
  async send(request: HttpRequest): Promise<HttpResponse> {
    refuseNonHttp(request);
    const deadline = new Deadline(request.deadlineMs, request.method, request.url, request.signal);
    let response: HttpResponse;
    try {
      response = await this.sendAttempts(
        deadline.signal === request.signal ? request : { ...request, signal: deadline.signal },
        deadline,
      );
    } catch (error) {
      deadline.clear();
      throw deadline.reason ?? error;
    }
    return this.bounded(request, response, deadline);
  }

  /**
   * The success body with the request's cap and deadline on it: a declared length over the
   * cap is refused unread (RFC 9112 §6.3 gives the length before the body).
   */
  private bounded(request: HttpRequest, response: HttpResponse, deadline: Deadline): HttpResponse {
    const limit = request.maxBodyBytes;
    if (request.minimumRate)
      response = {
        ...response,
        body: rateWatchedBody(response.body, request.minimumRate, request.method, request.url),
      };
    if (limit === undefined) {
      if (request.deadlineMs) response.body.once('close', () => deadline.clear());
      return response;
    }
    const declared = declaredLengthOver(response.headers, limit);
    if (declared !== undefined) {
      deadline.clear();
      // undici's body emits RequestAbortedError when destroyed: with no listener that
      // 'error' event would crash the process (the extension host) after the typed error below.
      response.body.on('error', () => undefined);
      response.body.destroy();
      throw tooLarge(
        request.method,
        request.url,
        limit,
        `declares ${declared} bytes (Content-Length),`,
      );
    }
    return {
      ...response,
      body: countedBody(response.body, limit, request.method, request.url, () => deadline.clear()),
    };
  }

  /** The attempts of {@link send}: retries with backoff, one credential refresh on a 401. */
  private async sendAttempts(request: HttpRequest, deadline: Deadline): Promise<HttpResponse> {
    const retry = this.options.retry ?? {};
    const maxRetries = retry.retries ?? 3;
    const minDelay = retry.minDelayMs ?? 250;
    const maxDelay = retry.maxDelayMs ?? 20_000;
    const hasStreamBody =
      request.body !== undefined &&
      typeof request.body !== 'string' &&
      !(request.body instanceof Uint8Array);
    const mayRetry = (request.retry ?? IDEMPOTENT.has(request.method)) && !hasStreamBody;
    let refreshedCredentials = request.refreshCredentials === false;

    for (let attempt = 1; ; attempt++) {
      throwIfAborted(request, request.signal);
      const started = performance.now();
      let response: HttpResponse;
      try {
        response = await this.sendOnce(request);
      } catch (error) {
        const failure = deadline.reason ?? toTransportError(error, request);
        this.log(request, started, attempt, undefined, failure.message);
        // A network failure or a timeout may pass; a malformed answer (a 1xx flood) or a
        // cancel will not, and the deadline is for every attempt together.
        const transient = failure.code === 'NETWORK' || failure.code === 'TIMEOUT';
        if (
          mayRetry &&
          attempt <= maxRetries &&
          transient &&
          !deadline.expired &&
          !isProxyRefusal(error)
        ) {
          await sleep(backoff(attempt, minDelay, maxDelay), request.signal);
          continue;
        }
        throw failure;
      }
      this.log(request, started, attempt, response.status);
      // A 401 from an origin that got no credentials is that server's business: refreshing
      // ours (or asking the user for a token) would not help and must not be offered.
      if (!this.credentialScope.allows(request.url)) refreshedCredentials = true;

      if (
        response.status === 401 &&
        !refreshedCredentials &&
        this.options.auth?.refresh &&
        hasStreamBody
      ) {
        // Expired token on an upload: the streamed body is spent and cannot be sent again
        // from here, but the provider still refreshes once, and the caller (which can
        // rebuild the body from its files) learns it may resend.
        const error = await httpError(request, response, undefined);
        error.credentialsRefreshed = await this.options.auth.refresh();
        throw error;
      }
      if (response.status === 401 && !refreshedCredentials && this.options.auth?.refresh) {
        // Expired token: ask the provider once for fresh credentials, then try again.
        await response.dump();
        refreshedCredentials = true;
        if (await this.options.auth.refresh()) {
          attempt--;
          continue;
        }
        throw await httpError(request, { ...response, body: Readable.from([]) }, undefined);
      }
      if (response.status >= 200 && response.status < 300) return response;
      if (request.acceptStatus?.(response.status)) return response;

      const error = await httpError(
        request,
        response,
        parseRetryAfter(response.headers['retry-after']),
      );
      if (mayRetry && attempt <= maxRetries && RETRYABLE_STATUS.has(response.status)) {
        const wait = Math.min(error.retryAfterMs ?? backoff(attempt, minDelay, maxDelay), maxDelay);
        await sleep(wait, request.signal);
        continue;
      }
      throw error;
    }
  }

  /** Sends a request and returns the whole body (for small answers: JSON, single frames). */
  async sendForBytes(request: HttpRequest): Promise<{ response: HttpResponse; bytes: Buffer }> {
    const response = await this.send(request);
    try {
      // The cap is the body's own (request.maxBodyBytes, set on it by bounded()).
      return { response, bytes: await readWholeBody(response.body) };
    } catch (error) {
      throw toTransportError(error, request);
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /**
   * A GET read straight from the socket into one reused buffer (socketGet.ts), for a body
   * the caller consumes synchronously: the retrieve to disk. Same headers, credentials,
   * timeouts, TLS options and request log as {@link send}; resolves `declined` when the
   * request is one this path does not take (a proxy or a caller's own dispatcher, a
   * connection or certificate failure, an answer other than what `onHead` accepts), and the
   * caller then uses {@link send}, whose errors say what went wrong.
   */
  async getFromSocket(
    request: Pick<HttpRequest, 'url' | 'headers' | 'signal'>,
    onHead: SocketGetOptions['onHead'],
    control?: (call: SocketGetCall) => void,
  ): Promise<SocketGetOutcome> {
    if (this.options.dispatcher)
      return { kind: 'declined', reason: 'the client sends through its own dispatcher' };
    if (this.options.proxy) return { kind: 'declined', reason: 'requests go through a proxy' };
    if (!socketGetSupports(request.url))
      return { kind: 'declined', reason: 'not an http: or https: URL' };
    throwIfAborted({ method: 'GET', url: request.url }, request.signal);
    const headers = await this.headersFor(request);
    const started = performance.now();
    const timeouts = this.options.timeouts ?? {};
    let logged = false;
    const call = socketGet(
      request.url,
      rawPathAndQuery(request.url) ?? new URL(request.url).pathname + new URL(request.url).search,
      {
        headers,
        signal: request.signal,
        connectMs: timeouts.connectMs ?? 10_000,
        headersMs: timeouts.headersMs ?? 60_000,
        bodyMs: timeouts.bodyMs ?? 120_000,
        minimumRate: this.limits.minimumRate,
        // One read returns what the kernel holds, up to this: 256 KiB measured ~8 % faster
        // than 64 KiB on the 1 GB retrieve of bench/ (1,420–1,497 against 1,251–1,388 MB/s).
        readBufferBytes: SOCKET_READ_BUFFER_BYTES,
        tls: this.options.tls,
        secureContext: this.secureContext,
        onHead: (head) => {
          logged = true;
          this.log({ method: 'GET', url: request.url }, started, 1, head.status);
          return onHead(head);
        },
      },
    );
    control?.(call);
    try {
      const outcome = await call.outcome;
      if (!logged && outcome.kind === 'declined')
        this.log(
          { method: 'GET', url: request.url },
          started,
          1,
          undefined,
          `read through undici instead: ${outcome.reason}`,
        );
      return outcome;
    } catch (error) {
      if (!logged)
        this.log(
          { method: 'GET', url: request.url },
          started,
          1,
          undefined,
          error instanceof Error ? error.message : String(error),
        );
      throw error;
    }
  }

  /**
   * The client's extra headers, the request's own, and the credentials asked for now (a token may
   * have been refreshed).
   */
  private async headersFor(
    request: Pick<HttpRequest, 'headers' | 'url'>,
  ): Promise<Record<string, string>> {
    // Another origin (a BulkDataURI or RetrieveURL naming another host) gets neither the
    // credentials nor the connection's configured headers (origins.ts).
    if (!this.credentialScope.allows(request.url)) return { ...request.headers };
    const headers: Record<string, string> = { ...this.options.headers, ...request.headers };
    const authorization = await this.options.auth?.authorization();
    if (authorization) headers.authorization = authorization;
    return headers;
  }

  private async sendOnce(request: HttpRequest): Promise<HttpResponse> {
    const headers = await this.headersFor(request);
    const url = new URL(request.url);
    let body: string | Uint8Array | Readable | undefined;
    if (
      request.body === undefined ||
      typeof request.body === 'string' ||
      request.body instanceof Uint8Array
    ) {
      body = request.body;
    } else if (request.body instanceof Readable) {
      body = request.body;
    } else {
      body = Readable.from(request.body, { objectMode: false });
    }
    // undici re-arms its headers timeout on every interim answer (measured: a 102 every
    // 20 ms waited for good), so their number is bounded here as in socketGet.ts.
    const interim = new AbortController();
    let interimAnswers = 0;
    const onInfo = (): void => {
      if (++interimAnswers > MAX_INTERIM_RESPONSES) {
        interim.abort(
          new DicomWebError(
            'MALFORMED_RESPONSE',
            `${request.method} ${redactUrl(request.url)}: more than ${MAX_INTERIM_RESPONSES} interim (1xx) answers`,
            { method: request.method, url: request.url },
          ),
        );
      }
    };
    const result = await this.dispatcher.request({
      origin: url.origin,
      // Keep the path and query exactly as built: Orthanc does not percent-decode search
      // values, so `^ * ? , '` must stay raw (PS3.18 §8.3.4, ../docs conformance note).
      path: rawPathAndQuery(request.url) ?? url.pathname + url.search,
      method: request.method,
      headers,
      body,
      signal: request.signal ? AbortSignal.any([request.signal, interim.signal]) : interim.signal,
      onInfo,
    });
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers)) {
      if (value !== undefined)
        flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const stream = result.body as unknown as Readable;
    return {
      status: result.statusCode,
      headers: flat,
      body: stream,
      url: request.url,
      method: request.method,
      credentialSent: headers.authorization !== undefined,
      dump: async () => {
        try {
          await result.body.dump({ limit: 1024 * 1024 });
        } catch {
          // A connection that fails while discarding a body is closed by undici; nothing to do.
        }
      },
    };
  }

  private log(
    request: Pick<HttpRequest, 'method' | 'url'>,
    started: number,
    attempt: number,
    status?: number,
    error?: string,
  ): void {
    this.options.onRequest?.({
      method: request.method,
      url: redactUrl(request.url),
      status,
      durationMs: Math.round(performance.now() - started),
      attempt,
      error,
    });
  }
}

/**
 * The path and query of a URL exactly as written. WHATWG URL parsing re-encodes some
 * characters of http(s) queries (`'` becomes `%27`), which Orthanc then fails to match:
 * `PatientName=O'Hara*` must arrive as written. Only used when the text is already valid
 * request-target syntax (printable ASCII, no space); otherwise the parsed form is sent.
 */
function rawPathAndQuery(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  if (!match) return undefined;
  let target = match[1];
  if (!/^[\x21-\x7e]*$/.test(target)) return undefined;
  if (target === '' || target.startsWith('?')) target = `/${target}`;
  return target;
}

/**
 * Builds the typed error of a non-success answer from at most {@link MAX_ERROR_BODY_BYTES}
 * of its body; the rest is never read (leaving the loop destroys the body), so an endless
 * error body ends here too.
 */
async function httpError(
  request: HttpRequest,
  response: HttpResponse,
  retryAfterMs?: number,
): Promise<DicomWebHttpError> {
  let text = '';
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      chunks.push(buffer.subarray(0, MAX_ERROR_BODY_BYTES - size));
      size += buffer.length;
      if (size >= MAX_ERROR_BODY_BYTES) break;
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch {
    // The message is a courtesy; the status is what matters.
  }
  const { message, body } = serverMessageOf(text);
  const error = new DicomWebHttpError(
    request.method,
    request.url,
    response.status,
    STATUS_TEXT[response.status] ?? '',
    message,
    body,
    retryAfterMs,
  );
  error.credentialSent = response.credentialSent;
  return error;
}

/**
 * Pulls a human message out of an error body: DICOM JSON ErrorComment (0000,0902) or
 * FailureReason, Orthanc's `{"Message": ..., "Details": ...}`, or plain text. Orthanc sends
 * error bodies without a Content-Type, so the body is sniffed rather than trusted by header.
 */
export function serverMessageOf(text: string): { message?: string; body?: unknown } {
  const trimmed = text.trim();
  if (!trimmed) return {};
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const body = JSON.parse(trimmed) as unknown;
      return { message: messageFromJson(body) ?? oneLine(trimmed), body };
    } catch {
      // not JSON after all
    }
  }
  if (trimmed.startsWith('<')) {
    const title = /<title>([^<]*)<\/title>/i.exec(trimmed)?.[1];
    return { message: title ? oneLine(title) : undefined };
  }
  return { message: oneLine(trimmed) };
}

function messageFromJson(body: unknown): string | undefined {
  if (Array.isArray(body)) return body.length ? messageFromJson(body[0]) : undefined;
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof record.Message === 'string') parts.push(record.Message); // Orthanc
  if (typeof record.Details === 'string' && record.Details) parts.push(record.Details);
  if (typeof record.message === 'string') parts.push(record.message); // Azure/Google problem details
  if (
    typeof record.error === 'object' &&
    record.error &&
    typeof (record.error as Record<string, unknown>).message === 'string'
  ) {
    parts.push((record.error as Record<string, string>).message);
  }
  const comment = findDicomString(record, Tag.ErrorComment); // ErrorComment
  if (comment) parts.push(comment);
  return parts.length ? oneLine(parts.join(' — ')) : undefined;
}

function findDicomString(node: unknown, tag: string, depth = 0): string | undefined {
  if (!node || typeof node !== 'object' || depth > 6) return undefined;
  const record = node as Record<string, unknown>;
  const attribute = record[tag] as { Value?: unknown[] } | undefined;
  const value = attribute?.Value?.[0];
  if (typeof value === 'string') return value;
  for (const child of Object.values(record)) {
    const values = (child as { Value?: unknown[] } | undefined)?.Value;
    if (Array.isArray(values)) {
      for (const item of values) {
        const found = findDicomString(item, tag, depth + 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function backoff(attempt: number, minDelay: number, maxDelay: number): number {
  const base = Math.min(maxDelay, minDelay * 2 ** (attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Only http: and https: are fetched (a BulkDataURI could name `file:` or anything else). */
function refuseNonHttp(request: Pick<HttpRequest, 'method' | 'url'>): void {
  let protocol = '';
  try {
    protocol = new URL(request.url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new DicomWebError(
      'INVALID_REQUEST',
      `${request.method} ${redactUrl(request.url)}: only http: and https: URLs are fetched`,
      { method: request.method, url: request.url },
    );
  }
}

function throwIfAborted(request: Pick<HttpRequest, 'method' | 'url'>, signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw new DicomWebError(
      'CANCELLED',
      `${request.method} ${redactUrl(request.url)} was cancelled`,
      {
        method: request.method,
        url: request.url,
      },
    );
  }
}

/** Maps undici and Node errors to the client's typed errors. */
export function toTransportError(
  error: unknown,
  request: Pick<HttpRequest, 'method' | 'url' | 'signal'>,
): DicomWebError {
  if (error instanceof DicomWebError) return error;
  const details = { method: request.method, url: request.url, cause: error };
  const target = `${request.method} ${redactUrl(request.url)}`;
  const code = (error as { code?: string } | undefined)?.code ?? '';
  const name = (error as { name?: string } | undefined)?.name ?? '';
  if (request.signal?.aborted || name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return new DicomWebError('CANCELLED', `${target} was cancelled`, details);
  }
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new DicomWebError('TIMEOUT', `${target} timed out (${code})`, details);
  }
  if (isProxyRefusal(error)) {
    // undici reports it as an argument error (forwarded) or an aborted tunnel (CONNECT).
    return new DicomWebError(
      'NETWORK',
      `${target} failed: the proxy asks for credentials it did not get (407 Proxy Authentication Required); check the user and password in the proxy URL`,
      details,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new DicomWebError(
    'NETWORK',
    `${target} failed: ${reason}${code ? ` (${code})` : ''}`,
    details,
  );
}

/** A proxy's 407 (RFC 9110 §15.5.8): asking again with the same credentials cannot help. */
function isProxyRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /proxy/i.test(message) && /\b407\b/.test(message);
}

/** Waits `ms`; rejects with CANCELLED as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DicomWebError('CANCELLED', 'cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DicomWebError('CANCELLED', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
