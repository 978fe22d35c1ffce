/**
 * The DICOMweb client: QIDO-RS, WADO-RS, STOW-RS (PS3.18 §10.4–10.6) and the vendors'
 * DELETE, over one keep-alive undici pool. No `vscode` import: it runs in plain Node and
 * everything in the extension calls it.
 */
import { type AuthProvider, noAuth } from './transport/auth';
import { DicomWebError, DicomWebHttpError } from './transport/errors';
import {
  HttpTransport,
  sleep,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  type RequestLogEntry,
} from './transport/http';
import {
  MultipartError,
  parseContentType,
  parseMultipart,
  readPartBody,
  transferSyntaxFromType,
} from '../mime/multipart';
import {
  PROFILES,
  dicomWebRootCandidates,
  isLocalServerHeader,
  kindFromUrl,
  looksLikeOrthancSystem,
  looksLikeQidoAnswer,
  orthancRootCandidates,
  type ServerKind,
  type ServerProfile,
} from './profiles/serverProfiles';
import {
  MEDIA,
  deleteRequest,
  framesRequest,
  metadataRequest,
  normalizeBaseUrl,
  renderedRequest,
  resourcePath,
  retrieveInstanceSinglePartRequest,
  retrieveRequest,
  searchRequest,
  urlFor,
  type FramesOptions,
  type InstancePath,
  type QidoLevel,
  type QidoQuery,
  type QidoScope,
  type RenderedOptions,
  type RequestSpec,
  type RetrieveOptions,
} from './requests';
import { toCurl, type CurlOptions } from './curl';
import {
  applyClientFilters,
  planQuery,
  rowMayBeLossy,
  withSourceValue,
  type ClientFilter,
} from './clientMatch';

/**
 * Server pages one "Load more…" may read when the client filters them and they keep
 * nothing (a wide pattern sent for Orthanc, clientMatch.ts): 10 pages of the tree's 100 rows
 * is about a second on a local Orthanc; past it the row stays and the next click reads on.
 */
export const CLIENT_FILTER_MAX_PAGES = 10;
import type { DicomJsonDataset } from '../dicom/types';
import { storeFiles, type StoreOptions, type StoreSummary } from './transfer/store';
import {
  retrieveToDirectory,
  type DownloadOptions,
  type DownloadResult,
} from './transfer/download';
import {
  DEFAULT_OPERATION_POLLING,
  operationsRoot,
  parseOperation,
  type LongRunningOperation,
  type OperationPolling,
} from './operations';
import { Tag } from '../dicom/tags';

export interface DicomWebClientOptions extends Omit<HttpOptions, 'auth'> {
  /** Service URL, with `/v{version}` and `/partitions/{name}` when the service has them. */
  baseUrl: string;
  auth?: AuthProvider;
  /** Server kind; when absent, {@link DicomWebClient.detectProfile} may find it. */
  serverKind?: ServerKind;
  /** The server's own REST root (Orthanc), when it cannot be derived from the base URL. */
  serverRoot?: string;
  /** How to wait for a long-running operation (Google's delete); see operations.ts. */
  operationPolling?: Partial<OperationPolling>;
}

/** {@link DicomWebClientOptions} without its functions: what can be posted to a worker thread. */
export type PortableClientOptions = Omit<
  DicomWebClientOptions,
  'auth' | 'onRequest' | 'dispatcher'
>;

/** A page of QIDO results with what the server said besides them. */
export interface SearchResult {
  items: DicomJsonDataset[];
  /** `Warning` header texts (PS3.18 §8.6.2): more results exist, a parameter was ignored … */
  warnings: string[];
  status: number;
  /**
   * Rows the server sent, when the client filtered them (a value the server could not take
   * as typed, clientMatch.ts): the next page starts this many rows on, not `items.length`.
   */
  scanned?: number;
}

export interface SearchPage extends SearchResult {
  offset: number;
  limit: number;
  /** Whether another page may follow. */
  hasMore: boolean;
}

export interface PagingOptions {
  /** Page size asked of the server; capped by the profile's maxLimit. */
  pageSize?: number;
  /** Stop after this many results in total. */
  maxResults?: number;
  signal?: AbortSignal;
}

export interface Frame {
  frameNumber: number;
  /** Media type of the part: `application/octet-stream` or the stored encoding (`image/jp2` …). */
  mediaType: string;
  /** The part's transfer-syntax parameter, when the server named one. */
  transferSyntaxUid?: string;
  data: Uint8Array;
}

export interface RetrievedBinary {
  mediaType: string;
  data: Uint8Array;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

const LEVEL_UID: Record<QidoLevel, string> = {
  studies: Tag.StudyInstanceUID,
  series: Tag.SeriesInstanceUID,
  instances: Tag.SOPInstanceUID,
};

export class DicomWebClient {
  readonly baseUrl: string;
  readonly transport: HttpTransport;
  private readonly auth: AuthProvider;
  private profile: ServerProfile;
  private serverRoot?: string;

  constructor(private readonly options: DicomWebClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.auth = options.auth ?? noAuth;
    // Credentials go to the service's origin, the server root's (Orthanc's REST API, when
    // configured apart) and the origins the user trusts; nothing else (origins.ts).
    const trustedOrigins = [
      ...(options.trustedOrigins ?? []),
      ...(options.serverRoot ? [options.serverRoot] : []),
    ];
    this.transport = new HttpTransport({
      ...options,
      baseUrl: this.baseUrl,
      trustedOrigins,
      auth: this.auth,
    });
    this.profile = PROFILES[options.serverKind ?? kindFromUrl(this.baseUrl) ?? 'generic'];
    this.serverRoot = options.serverRoot;
  }

  get serverProfile(): ServerProfile {
    return this.profile;
  }

  /** The credentials this client sends (another thread asks for them over messages: downloadWorker.ts). */
  get authProvider(): AuthProvider {
    return this.auth;
  }

  /** The request log callback, if any (a worker's requests are logged through it too). */
  get requestLogger(): ((entry: RequestLogEntry) => void) | undefined {
    return this.options.onRequest;
  }

  /**
   * What another thread needs to build the same client (downloadWorker.ts): every option
   * but the functions. Credentials and the request log stay in this thread; a custom
   * `dispatcher` cannot cross (the worker makes its own from the same TLS and timeouts).
   */
  portableOptions(): PortableClientOptions {
    const { auth: _auth, onRequest: _onRequest, dispatcher: _dispatcher, ...rest } = this.options;
    return {
      ...rest,
      serverKind: this.profile.kind,
      ...(this.serverRoot ? { serverRoot: this.serverRoot } : {}),
    };
  }

  setServerKind(kind: ServerKind): void {
    this.profile = PROFILES[kind];
  }

  /**
   * Finds the server kind with cheap probes: the host name (Azure, Google), the path
   * (dcm4chee), then Orthanc's `GET /system` on the REST root above the DICOMweb root.
   * Falls back to `generic`. Never throws for an unreachable probe.
   */
  async detectProfile(options: RequestOptions = {}): Promise<ServerProfile> {
    const byUrl = kindFromUrl(this.baseUrl);
    if (byUrl) {
      this.profile = PROFILES[byUrl];
      return this.profile;
    }
    // The extension's own local server names itself in its `Server` header.
    const probe = await this.probeQido(this.baseUrl, options.signal);
    if (isLocalServerHeader(probe?.server)) {
      this.profile = PROFILES.local;
      return this.profile;
    }
    const candidates = this.serverRoot ? [this.serverRoot] : orthancRootCandidates(this.baseUrl);
    for (const root of candidates) {
      try {
        const { bytes } = await this.transport.sendForBytes({
          method: 'GET',
          url: `${root}/system`,
          headers: { accept: 'application/json' },
          signal: options.signal,
          retry: false,
          ...this.inMemory('json'),
        });
        if (looksLikeOrthancSystem(JSON.parse(bytes.toString('utf8')))) {
          this.serverRoot = root;
          this.profile = PROFILES.orthanc;
          return this.profile;
        }
      } catch (error) {
        if (error instanceof DicomWebError && error.code === 'CANCELLED') throw error;
        // Not Orthanc there (404, HTML, not JSON): try the next candidate.
      }
    }
    this.profile = PROFILES[this.options.serverKind ?? 'generic'];
    return this.profile;
  }

  /**
   * The DICOMweb root at or below this client's base URL: the base URL itself when it
   * answers a QIDO study search, else the first of {@link dicomWebRootCandidates} that does
   * (Orthanc's root typed without `/dicom-web`), else undefined (unreachable, or not found).
   */
  async findDicomWebRoot(options: RequestOptions = {}): Promise<string | undefined> {
    const own = await this.probeQido(this.baseUrl, options.signal);
    if (own?.qido) return this.baseUrl;
    if (!own) return undefined;
    for (const candidate of dicomWebRootCandidates(this.baseUrl)) {
      if ((await this.probeQido(candidate, options.signal))?.qido) return candidate;
    }
    return undefined;
  }

  /** `GET {root}/studies?limit=1`: whether it answers like QIDO, and its `Server` header; undefined when unreachable. */
  private async probeQido(
    root: string,
    signal?: AbortSignal,
  ): Promise<{ qido: boolean; server?: string } | undefined> {
    try {
      const { response, bytes } = await this.transport.sendForBytes({
        method: 'GET',
        url: `${root}/studies?limit=1`,
        headers: { accept: MEDIA.dicomJson },
        signal,
        retry: false,
        acceptStatus: () => true,
        ...this.inMemory('json'),
      });
      return {
        qido: looksLikeQidoAnswer(response.status, bytes.toString('utf8')),
        server: response.headers.server,
      };
    } catch (error) {
      if (error instanceof DicomWebError && error.code === 'CANCELLED') throw error;
      return undefined;
    }
  }

  /**
   * The size cap and overall deadline of a request whose body is read into memory
   * (limits.ts), from this client's options.
   */
  private inMemory(kind: 'json' | 'binary'): Pick<HttpRequest, 'maxBodyBytes' | 'deadlineMs'> {
    const limits = this.transport.limits;
    return { maxBodyBytes: limits[kind], deadlineMs: limits.deadlineMs };
  }

  /** The full URL of a request description. */
  urlOf(spec: RequestSpec): string {
    return urlFor(this.baseUrl, spec, this.serverRoot);
  }

  /** The request as the seed tutorial's cURL command; credentials become a placeholder. */
  curlOf(
    spec: RequestSpec,
    options: Omit<CurlOptions, 'baseUrl' | 'authKind' | 'serverRoot'> = {},
  ): string {
    return toCurl(spec, {
      ...options,
      baseUrl: this.baseUrl,
      serverRoot: this.serverRoot,
      authKind: this.auth.kind,
      headers: { ...this.options.headers, ...options.headers },
    });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Sends a request description; the low-level door for everything below. */
  send(spec: RequestSpec, init: Partial<HttpRequest> = {}): Promise<HttpResponse> {
    return this.transport.send({
      method: spec.method,
      url: this.urlOf(spec),
      headers: spec.headers,
      ...init,
    });
  }

  // -------------------------------------------------------------------------------------
  // QIDO-RS (PS3.18 §10.6)

  /** `GET /studies?…` */
  searchForStudies(query: QidoQuery = {}, options: RequestOptions = {}): Promise<SearchResult> {
    return this.search('studies', {}, query, options);
  }

  /** `GET /series?…`, or `GET /studies/{study}/series?…` when the study is given. */
  searchForSeries(
    query: QidoQuery = {},
    scope: Pick<QidoScope, 'studyInstanceUid'> = {},
    options: RequestOptions = {},
  ): Promise<SearchResult> {
    return this.search('series', scope, query, options);
  }

  /** `GET /instances?…`, `/studies/{study}/instances?…` or `/studies/{study}/series/{series}/instances?…`. */
  searchForInstances(
    query: QidoQuery = {},
    scope: QidoScope = {},
    options: RequestOptions = {},
  ): Promise<SearchResult> {
    return this.search('instances', scope, query, options);
  }

  /**
   * Any of the six QIDO forms. 204, an empty body and `[]` all mean no match. A matching value
   * the profile's server cannot take as typed (Orthanc: a space, a non-ASCII letter) is sent
   * as a wider pattern and the answer filtered exactly here (clientMatch.ts); `scanned` then
   * counts the rows the server sent, `items` those that match.
   */
  async search(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    options: RequestOptions = {},
  ): Promise<SearchResult> {
    const { sent, filters } = planQuery(query, this.profile.capabilities.decodesQueryValues);
    const result = await this.searchAsSent(level, scope, sent, options);
    if (filters.length === 0) return result;
    const judged = await this.withSourceValues(result.items, filters, options);
    return { ...result, items: applyClientFilters(judged, filters), scanned: result.items.length };
  }

  /**
   * Rows whose copy of a filtered attribute may have lost characters (clientMatch.ts
   * {@link rowMayBeLossy}: Orthanc's Latin-1 index holds `^` for a CJK name) get the value
   * of their first instance's metadata, read from the stored file: two small requests a
   * row, for rows of one page only (the tree's 100 at most).
   */
  private async withSourceValues(
    items: DicomJsonDataset[],
    filters: readonly ClientFilter[],
    options: RequestOptions,
  ): Promise<DicomJsonDataset[]> {
    const out: DicomJsonDataset[] = [];
    for (const item of items) {
      const lossy = filters.filter((filter) => rowMayBeLossy(item, filter));
      const source = lossy.length
        ? await this.firstInstanceMetadata(item, options).catch(() => undefined)
        : undefined;
      out.push(
        source ? lossy.reduce((row, filter) => withSourceValue(row, source, filter), item) : item,
      );
    }
    return out;
  }

  /** The metadata of the first instance under a QIDO row (study, series or instance). */
  private async firstInstanceMetadata(
    row: DicomJsonDataset,
    options: RequestOptions,
  ): Promise<DicomJsonDataset | undefined> {
    const uid = (tag: string): string | undefined => {
      const value = (row[tag] as { Value?: unknown[] } | undefined)?.Value?.[0];
      return typeof value === 'string' ? value : undefined;
    };
    const studyInstanceUid = uid(Tag.StudyInstanceUID);
    if (!studyInstanceUid) return undefined;
    let seriesInstanceUid = uid(Tag.SeriesInstanceUID);
    let sopInstanceUid = uid(Tag.SOPInstanceUID);
    if (!seriesInstanceUid || !sopInstanceUid) {
      const scope = seriesInstanceUid
        ? { studyInstanceUid, seriesInstanceUid }
        : { studyInstanceUid };
      const [first] = (
        await this.searchAsSent(
          'instances',
          scope,
          { limit: 1, includeField: [Tag.SeriesInstanceUID, Tag.SOPInstanceUID] },
          options,
        )
      ).items;
      if (!first) return undefined;
      seriesInstanceUid = (first[Tag.SeriesInstanceUID] as { Value?: unknown[] } | undefined)
        ?.Value?.[0] as string | undefined;
      sopInstanceUid = (first[Tag.SOPInstanceUID] as { Value?: unknown[] } | undefined)
        ?.Value?.[0] as string | undefined;
      if (!seriesInstanceUid || !sopInstanceUid) return undefined;
    }
    const [metadata] = await this.retrieveMetadata(
      { studyInstanceUid, seriesInstanceUid, sopInstanceUid },
      options,
    );
    return metadata;
  }

  private async searchAsSent(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    options: RequestOptions,
  ): Promise<SearchResult> {
    const spec = searchRequest(level, scope, query);
    const { response, bytes } = await this.transport.sendForBytes({
      method: 'GET',
      url: this.urlOf(spec),
      headers: spec.headers,
      signal: options.signal,
      ...this.inMemory('json'),
    });
    return {
      items: parseJsonArray(bytes, response),
      warnings: warningsOf(response.headers),
      status: response.status,
    };
  }

  /**
   * One page of results at `offset`. `hasMore` is true when the page came back full (or the
   * server's Warning says more exist); the last page is the first that comes back short.
   */
  async searchPage(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    offset: number,
    pageSize = 100,
    options: RequestOptions = {},
  ): Promise<SearchPage> {
    const limit = this.pageLimit(pageSize);
    let page = await this.onePage(level, scope, query, offset, limit, options);
    // A page filtered on the client may keep nothing while the server has more: read on, a
    // bounded number of pages, so "Load more…" does not show an empty page.
    for (
      let extra = 1;
      page.items.length === 0 && page.hasMore && extra < CLIENT_FILTER_MAX_PAGES;
      extra++
    ) {
      const next = await this.onePage(level, scope, query, offset + page.scanned!, limit, options);
      page = {
        ...next,
        offset,
        scanned: page.scanned! + next.scanned!,
        warnings: [...new Set([...page.warnings, ...next.warnings])],
      };
    }
    return page;
  }

  /** One request of {@link searchPage}; `scanned` is always set (rows the server sent). */
  private async onePage(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    offset: number,
    limit: number,
    options: RequestOptions,
  ): Promise<SearchPage> {
    const result = await this.search(level, scope, { ...query, limit, offset }, options);
    const scanned = result.scanned ?? result.items.length;
    const moreWarned = result.warnings.some((warning) =>
      /additional results|more results/i.test(warning),
    );
    return {
      ...result,
      scanned,
      offset,
      limit,
      hasMore:
        this.profile.capabilities.honoursOffset && (scanned >= limit || moreWarned) && scanned > 0,
    };
  }

  /**
   * Every result, page by page. Copes with servers that ignore `offset` (the first record of
   * a later page repeats the first page's: stop, like Slicer's browser), that repeat records
   * across pages (Azure: de-duplicated by UID), and that answer 204 past the end.
   */
  async *searchAll(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery = {},
    paging: PagingOptions = {},
  ): AsyncGenerator<SearchPage> {
    const seen = new Set<string>();
    const uidTag = LEVEL_UID[level];
    let firstKey: string | undefined;
    let offset = query.offset ?? 0;
    let delivered = 0;
    for (;;) {
      const page = await this.searchPage(level, scope, query, offset, paging.pageSize ?? 100, {
        signal: paging.signal,
      });
      const keys = page.items.map((item) => uidOf(item, uidTag));
      if (firstKey === undefined) {
        firstKey = keys[0];
      } else if (keys.length > 0 && keys[0] !== undefined && keys[0] === firstKey) {
        page.warnings.push(
          'The server ignored the offset parameter; paging stopped after the first page.',
        );
        yield { ...page, items: [], hasMore: false };
        return;
      }
      const fresh = page.items.filter((_item, index) => {
        const key = keys[index];
        if (key === undefined) return true;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      offset += page.scanned ?? page.items.length;
      let items = fresh;
      if (paging.maxResults !== undefined && delivered + items.length >= paging.maxResults) {
        items = items.slice(0, paging.maxResults - delivered);
        yield { ...page, items, hasMore: false };
        return;
      }
      delivered += items.length;
      yield { ...page, items };
      if (!page.hasMore) return;
    }
  }

  private pageLimit(pageSize: number): number {
    const max = this.profile.capabilities.maxLimit;
    return Math.max(1, max !== undefined ? Math.min(pageSize, max) : pageSize);
  }

  // -------------------------------------------------------------------------------------
  // WADO-RS metadata (PS3.18 §10.4.1.1.2)

  /** `GET /studies/{study}/metadata` */
  retrieveStudyMetadata(
    studyInstanceUid: string,
    options: RequestOptions = {},
  ): Promise<DicomJsonDataset[]> {
    return this.retrieveMetadata({ studyInstanceUid }, options);
  }

  /** `GET /studies/{study}/series/{series}/metadata` */
  retrieveSeriesMetadata(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    options: RequestOptions = {},
  ): Promise<DicomJsonDataset[]> {
    return this.retrieveMetadata({ studyInstanceUid, seriesInstanceUid }, options);
  }

  /** `GET /studies/{study}/series/{series}/instances/{instance}/metadata` */
  retrieveInstanceMetadata(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    sopInstanceUid: string,
    options: RequestOptions = {},
  ): Promise<DicomJsonDataset[]> {
    return this.retrieveMetadata({ studyInstanceUid, seriesInstanceUid, sopInstanceUid }, options);
  }

  async retrieveMetadata(
    target: InstancePath,
    options: RequestOptions = {},
  ): Promise<DicomJsonDataset[]> {
    const spec = metadataRequest(target);
    const { response, bytes } = await this.transport.sendForBytes({
      method: 'GET',
      url: this.urlOf(spec),
      headers: spec.headers,
      signal: options.signal,
      ...this.inMemory('json'),
    });
    return parseJsonArray(bytes, response);
  }

  // -------------------------------------------------------------------------------------
  // WADO-RS retrieve (PS3.18 §10.4.1.1.1)

  /**
   * Streams the instances of a study, series or instance as they arrive, one multipart
   * part each (`multipart/related; type="application/dicom"`, `transfer-syntax=*` unless
   * another is asked). Nothing is buffered beyond a chunk: read each part's body in turn.
   */
  async *retrieve(
    target: InstancePath,
    options: RetrieveOptions & RequestOptions = {},
  ): AsyncGenerator<RetrievedPart> {
    const spec = retrieveRequest(target, options);
    // Streamed: no size cap nor overall deadline, but a minimum rate (limits.ts).
    const response = await this.send(spec, {
      signal: options.signal,
      minimumRate: this.transport.limits.minimumRate,
    });
    yield* this.partsOf(response, options.signal);
  }

  /** `GET /studies/{study}` (multipart/related application/dicom) */
  retrieveStudy(
    studyInstanceUid: string,
    options: RetrieveOptions & RequestOptions = {},
  ): AsyncGenerator<RetrievedPart> {
    return this.retrieve({ studyInstanceUid }, options);
  }

  /** `GET /studies/{study}/series/{series}` */
  retrieveSeries(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    options: RetrieveOptions & RequestOptions = {},
  ): AsyncGenerator<RetrievedPart> {
    return this.retrieve({ studyInstanceUid, seriesInstanceUid }, options);
  }

  /** `GET /studies/{study}/series/{series}/instances/{instance}` (multipart) */
  retrieveInstance(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    sopInstanceUid: string,
    options: RetrieveOptions & RequestOptions = {},
  ): AsyncGenerator<RetrievedPart> {
    return this.retrieve({ studyInstanceUid, seriesInstanceUid, sopInstanceUid }, options);
  }

  /**
   * The seed's single-part instance retrieve (`Accept: application/dicom; transfer-syntax=*`),
   * an Azure form; on servers without it (Orthanc answers 400) the multipart form is used.
   * The body streams.
   */
  async retrieveInstanceFile(
    target: Required<InstancePath>,
    options: RetrieveOptions & RequestOptions = {},
  ): Promise<RetrievedPart> {
    if (this.profile.capabilities.singlePartRetrieve) {
      const spec = retrieveInstanceSinglePartRequest(target, options);
      const response = await this.send(spec, {
        signal: options.signal,
        minimumRate: this.transport.limits.minimumRate,
      });
      const type = response.headers['content-type'] ?? 'application/dicom';
      if (!type.toLowerCase().startsWith('multipart/')) {
        const { mediaType, params } = parseContentType(type);
        return {
          mediaType,
          transferSyntaxUid: params['transfer-syntax'],
          headers: response.headers,
          body: response.body,
        };
      }
      for await (const part of this.partsOf(response, options.signal)) return part;
      throw new DicomWebError('MALFORMED_RESPONSE', 'the multipart answer held no instance', {
        method: 'GET',
        url: response.url,
      });
    }
    for await (const part of this.retrieve(target, options)) return part;
    throw new DicomWebError('MALFORMED_RESPONSE', 'the multipart answer held no instance', {
      method: 'GET',
      url: this.urlOf(retrieveRequest(target, options)),
    });
  }

  private async *partsOf(
    response: HttpResponse,
    signal?: AbortSignal,
  ): AsyncGenerator<RetrievedPart> {
    const contentType = response.headers['content-type'];
    if (!contentType) {
      await response.dump();
      throw new DicomWebError('MALFORMED_RESPONSE', 'the answer has no Content-Type', {
        method: response.method,
        url: response.url,
        status: response.status,
      });
    }
    const outer = parseContentType(contentType);
    const outerSyntax = transferSyntaxFromType(outer.params);
    try {
      for await (const part of parseMultipart(response.body, contentType, { signal })) {
        const partType = part.contentType ? parseContentType(part.contentType) : undefined;
        yield {
          mediaType: partType?.mediaType ?? outer.params.type ?? 'application/octet-stream',
          // §8.7.8.2: a part's own transfer-syntax wins over the one of the whole answer.
          transferSyntaxUid: partType?.params['transfer-syntax'] ?? outerSyntax,
          contentLocation: part.contentLocation,
          headers: part.headers,
          // A body cut off inside a part fails while the caller reads that part, outside
          // this loop: map those failures to the same typed errors.
          body: typedPartBody(part.body, response, signal),
        };
      }
    } catch (error) {
      throw multipartFailure(error, response, signal);
    }
  }

  // -------------------------------------------------------------------------------------
  // Frames, rendered, bulk data (PS3.18 §10.4.1.1.3–§10.4.1.1.5)

  /**
   * `GET …/frames/{list}`. With `transferSyntax: '*'` each frame comes back in its stored
   * encoding with its own media type; without, the server's default (Explicit VR Little
   * Endian pixels as application/octet-stream).
   */
  async retrieveInstanceFrames(
    target: Required<InstancePath>,
    frameNumbers: ReadonlyArray<number>,
    options: FramesOptions & RequestOptions = {},
  ): Promise<Frame[]> {
    const spec = framesRequest(target, frameNumbers, options);
    const response = await this.send(spec, { signal: options.signal, ...this.inMemory('binary') });
    const contentType = response.headers['content-type'] ?? '';
    const frames: Frame[] = [];
    if (!contentType.toLowerCase().startsWith('multipart/')) {
      // Some servers answer a single frame as a bare body.
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
      const type = contentType
        ? parseContentType(contentType)
        : { mediaType: 'application/octet-stream', params: {} };
      return [
        {
          frameNumber: frameNumbers[0],
          mediaType: type.mediaType,
          transferSyntaxUid: type.params['transfer-syntax'],
          data: Buffer.concat(chunks),
        },
      ];
    }
    let index = 0;
    for await (const part of this.partsOf(response, options.signal)) {
      const data = await readPartBody(part);
      frames.push({
        frameNumber: frameNumbers[index] ?? index + 1,
        mediaType: part.mediaType,
        transferSyntaxUid: part.transferSyntaxUid,
        data,
      });
      index++;
    }
    if (frames.length !== frameNumbers.length) {
      throw new DicomWebError(
        'MALFORMED_RESPONSE',
        `asked for ${frameNumbers.length} frame(s), got ${frames.length}`,
        {
          method: 'GET',
          url: response.url,
        },
      );
    }
    return frames;
  }

  /** `GET …/rendered` or `…/frames/{n}/rendered` as PNG (default) or JPEG. */
  async retrieveRendered(
    target: Required<InstancePath>,
    frame?: number,
    options: RenderedOptions & RequestOptions = {},
  ): Promise<RetrievedBinary> {
    const spec = renderedRequest(target, frame, options);
    const { response, bytes } = await this.transport.sendForBytes({
      method: 'GET',
      url: this.urlOf(spec),
      headers: spec.headers,
      signal: options.signal,
      ...this.inMemory('binary'),
    });
    return {
      mediaType: parseContentType(response.headers['content-type'] ?? spec.headers.accept)
        .mediaType,
      data: bytes,
    };
  }

  /**
   * Fetches a BulkDataURI (absolute, or relative to the service URL) and returns its parts.
   * `multipart/related; type="application/octet-stream"` is asked for, as §8.7.3.5 defines.
   */
  async retrieveBulkData(uri: string, options: RequestOptions = {}): Promise<RetrievedBinary[]> {
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri) && !/^https?:\/\//i.test(uri)) {
      throw new DicomWebError(
        'INVALID_REQUEST',
        `the BulkDataURI ${JSON.stringify(uri.slice(0, 80))} is not an http: or https: URL`,
      );
    }
    // Another origin is fetched without this connection's credentials (origins.ts).
    const url = /^https?:\/\//i.test(uri) ? uri : `${this.baseUrl}/${uri.replace(/^\/+/, '')}`;
    const response = await this.transport.send({
      method: 'GET',
      url,
      headers: { accept: 'multipart/related; type="application/octet-stream"' },
      signal: options.signal,
      ...this.inMemory('binary'),
    });
    const contentType = response.headers['content-type'] ?? 'application/octet-stream';
    if (!contentType.toLowerCase().startsWith('multipart/')) {
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
      return [{ mediaType: parseContentType(contentType).mediaType, data: Buffer.concat(chunks) }];
    }
    const parts: RetrievedBinary[] = [];
    for await (const part of this.partsOf(response, options.signal)) {
      parts.push({ mediaType: part.mediaType, data: await readPartBody(part) });
    }
    return parts;
  }

  // -------------------------------------------------------------------------------------
  // STOW-RS (PS3.18 §10.5)

  /**
   * Stores Part 10 files: `POST /studies` (or `/studies/{study}`) in batches of
   * multipart/related requests streamed from disk, a bounded number in flight. Resolves
   * with one outcome per file, in the order given; never rejects for a server's refusal.
   */
  storeInstances(files: ReadonlyArray<string>, options: StoreOptions = {}): Promise<StoreSummary> {
    return storeFiles(this, files, options);
  }

  /** Streams a study, series or instance to `.dcm` files in a folder, part by part. */
  downloadToDirectory(
    target: InstancePath,
    directory: string,
    options: DownloadOptions = {},
  ): Promise<DownloadResult> {
    return retrieveToDirectory(this, target, directory, options);
  }

  // -------------------------------------------------------------------------------------
  // DELETE (not in PS3.18; by server profile)

  /** Deletes a study with everything in it. */
  deleteStudy(studyInstanceUid: string, options: RequestOptions = {}): Promise<void> {
    return this.deleteResource({ studyInstanceUid }, options);
  }

  /** Deletes one series of a study. */
  deleteSeries(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    options: RequestOptions = {},
  ): Promise<void> {
    return this.deleteResource({ studyInstanceUid, seriesInstanceUid }, options);
  }

  /** Deletes one instance. */
  deleteInstance(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    sopInstanceUid: string,
    options: RequestOptions = {},
  ): Promise<void> {
    return this.deleteResource({ studyInstanceUid, seriesInstanceUid, sopInstanceUid }, options);
  }

  /**
   * Deletes exactly the resource named, the way the server kind allows. A missing resource
   * rejects with a 404 {@link DicomWebHttpError}, so a caller never believes a no-op worked.
   */
  async deleteResource(target: InstancePath, options: RequestOptions = {}): Promise<void> {
    resourcePath(target); // validates every UID before anything is sent
    switch (this.profile.capabilities.deleteMethod) {
      case 'dicomweb': {
        const spec = deleteRequest(target);
        const response = await this.send(spec, { signal: options.signal });
        // Azure and the local server: 204, no body. Google: a long-running operation for a
        // study or a series; the data is gone only when it is done.
        const operation = parseOperation(await readSmallBody(response, OPERATION_BODY_LIMIT));
        if (operation) await this.waitForOperation(operation, options);
        return;
      }
      case 'orthanc-rest':
        return this.deleteWithOrthancRest(target, options);
      case 'dcm4chee-reject':
        return this.deleteWithDcm4cheeReject(target, options);
      default:
        throw new DicomWebError('UNSUPPORTED', `${this.profile.label} does not offer deletion`);
    }
  }

  /** The request descriptions a delete sends, for "Copy as cURL" and the log. */
  deleteRequests(target: InstancePath): RequestSpec[] {
    const method = this.profile.capabilities.deleteMethod;
    if (method === 'orthanc-rest') {
      const uid = target.sopInstanceUid ?? target.seriesInstanceUid ?? target.studyInstanceUid;
      const level = target.sopInstanceUid
        ? 'instances'
        : target.seriesInstanceUid
          ? 'series'
          : 'studies';
      return [
        {
          method: 'POST',
          path: '/tools/lookup',
          headers: { 'content-type': 'text/plain' },
          body: { kind: 'text', contentType: 'text/plain', text: uid },
          root: 'server',
        },
        {
          method: 'DELETE',
          path: `/${level}/{Orthanc ID from the lookup}`,
          headers: {},
          root: 'server',
        },
      ];
    }
    if (method === 'dcm4chee-reject') {
      const reject: RequestSpec = {
        method: 'POST',
        path: `${resourcePath(target)}/reject/113001^DCM`,
        headers: {},
      };
      return target.seriesInstanceUid ? [reject] : [reject, deleteRequest(target)];
    }
    return [deleteRequest(target)];
  }

  /**
   * Polls a long-running operation (`GET {api root}/{name}`) until it is done, with waits
   * doubling from {@link OperationPolling.firstDelayMs} to `maxDelayMs`. A failed operation
   * rejects with OPERATION_FAILED and the server's message; past `timeoutMs` with TIMEOUT,
   * naming the operation so the user can look it up.
   */
  private async waitForOperation(
    first: LongRunningOperation,
    options: RequestOptions,
  ): Promise<void> {
    const polling = { ...DEFAULT_OPERATION_POLLING, ...this.options.operationPolling };
    const root = operationsRoot(this.baseUrl);
    const url = root ? `${root}/${first.name}` : undefined;
    const deadline = performance.now() + polling.timeoutMs;
    let operation = first;
    let delay = polling.firstDelayMs;
    while (!operation.done) {
      if (!url) {
        throw new DicomWebError(
          'UNSUPPORTED',
          `the server answered with operation ${first.name}, but its API root is not in the URL ${this.baseUrl}`,
        );
      }
      if (performance.now() + delay > deadline) {
        throw new DicomWebError(
          'TIMEOUT',
          `the delete was still running on the server after ${Math.round(polling.timeoutMs / 1000)} s (operation ${first.name})`,
          { method: 'GET', url },
        );
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, polling.maxDelayMs);
      const { bytes } = await this.transport.sendForBytes({
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        signal: options.signal,
        ...this.inMemory('json'),
      });
      const next = parseOperation(bytes);
      if (!next || next.name !== first.name) {
        throw new DicomWebError(
          'MALFORMED_RESPONSE',
          `the answer about operation ${first.name} is not that operation`,
          { method: 'GET', url },
        );
      }
      operation = next;
    }
    if (operation.error) {
      throw new DicomWebError(
        'OPERATION_FAILED',
        `the server could not finish the delete: ${operation.error.message ?? `code ${operation.error.code ?? '?'}`} (operation ${first.name})`,
        {
          method: 'GET',
          url: url ?? this.baseUrl,
          serverMessage: operation.error.message,
        },
      );
    }
  }

  private async orthancRoot(options: RequestOptions): Promise<string> {
    if (this.serverRoot) return this.serverRoot;
    await this.detectProfile(options);
    if (!this.serverRoot) {
      throw new DicomWebError(
        'UNSUPPORTED',
        'cannot find the Orthanc REST API above this DICOMweb URL; set the server root',
      );
    }
    return this.serverRoot;
  }

  /** Orthanc's UID → its own ID (`POST /tools/lookup`, body = raw UID). */
  private async orthancLookup(
    root: string,
    uid: string,
    type: 'Study' | 'Series' | 'Instance',
    options: RequestOptions,
  ): Promise<string | undefined> {
    const { bytes } = await this.transport.sendForBytes({
      method: 'POST',
      url: `${root}/tools/lookup`,
      headers: { 'content-type': 'text/plain', accept: 'application/json' },
      body: uid,
      signal: options.signal,
      ...this.inMemory('json'),
    });
    const found = parseJson(bytes, 'POST', `${root}/tools/lookup`) as Array<{
      ID?: string;
      Type?: string;
    }>;
    return Array.isArray(found) ? found.find((entry) => entry.Type === type)?.ID : undefined;
  }

  private async orthancParent(
    root: string,
    level: 'series' | 'instances',
    id: string,
    options: RequestOptions,
  ): Promise<string | undefined> {
    const { bytes } = await this.transport.sendForBytes({
      method: 'GET',
      url: `${root}/${level}/${id}`,
      headers: { accept: 'application/json' },
      signal: options.signal,
      ...this.inMemory('json'),
    });
    const body = parseJson(bytes, 'GET', `${root}/${level}/${id}`) as {
      ParentStudy?: string;
      ParentSeries?: string;
    };
    return level === 'series' ? body.ParentStudy : body.ParentSeries;
  }

  private async deleteWithOrthancRest(
    target: InstancePath,
    options: RequestOptions,
  ): Promise<void> {
    const root = await this.orthancRoot(options);
    const notFound = (what: string, uid: string): DicomWebHttpError =>
      new DicomWebHttpError(
        'DELETE',
        this.urlOf(deleteRequest(target)),
        404,
        'Not Found',
        `${what} ${uid} is not on the server`,
      );
    const studyId = await this.orthancLookup(root, target.studyInstanceUid, 'Study', options);
    if (!studyId) throw notFound('study', target.studyInstanceUid);
    let path = `/studies/${studyId}`;
    if (target.seriesInstanceUid) {
      // Check the parent chain, so that a series UID reused in another study is never hit.
      const seriesId = await this.orthancLookup(root, target.seriesInstanceUid, 'Series', options);
      if (!seriesId || (await this.orthancParent(root, 'series', seriesId, options)) !== studyId) {
        throw notFound('series', target.seriesInstanceUid);
      }
      path = `/series/${seriesId}`;
      if (target.sopInstanceUid) {
        const instanceId = await this.orthancLookup(
          root,
          target.sopInstanceUid,
          'Instance',
          options,
        );
        if (
          !instanceId ||
          (await this.orthancParent(root, 'instances', instanceId, options)) !== seriesId
        ) {
          throw notFound('instance', target.sopInstanceUid);
        }
        path = `/instances/${instanceId}`;
      }
    }
    const response = await this.transport.send({
      method: 'DELETE',
      url: `${root}${path}`,
      signal: options.signal,
    });
    await response.dump();
  }

  private async deleteWithDcm4cheeReject(
    target: InstancePath,
    options: RequestOptions,
  ): Promise<void> {
    // dcm4chee-arc refuses to delete what was not rejected first (403); 113001^DCM is
    // "Rejected for Quality Reasons" (PS3.16 CID 7011). Rejected series and instances are
    // hidden from QIDO/WADO at once; a rejected study can then be deleted for good.
    const reject = await this.transport.send({
      method: 'POST',
      url: `${this.baseUrl}${resourcePath(target)}/reject/113001^DCM`,
      signal: options.signal,
    });
    await reject.dump();
    if (!target.seriesInstanceUid) {
      const response = await this.send(deleteRequest(target), { signal: options.signal });
      await response.dump();
    }
  }
}

/** One instance of a WADO-RS retrieve: its media type and a streamed body. */
export interface RetrievedPart {
  mediaType: string;
  transferSyntaxUid?: string;
  contentLocation?: string;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

function uidOf(item: DicomJsonDataset, tag: string): string | undefined {
  const value = item[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/** `Warning` headers (RFC 9111 §5.5 / PS3.18 §8.6.2): `299 {service}: "text"` → text. */
export function warningsOf(headers: Record<string, string>): string[] {
  const raw = headers.warning;
  if (!raw) return [];
  const found: string[] = [];
  const pattern = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(raw))) found.push(match[1].replace(/\\(.)/g, '$1'));
  return found.length ? found : [raw];
}

/** A DELETE answer is empty or a small JSON operation: a body past this is not read. */
const OPERATION_BODY_LIMIT = 64 * 1024;

/** The whole body when it is at most `limit` bytes; otherwise nothing (and the rest is dropped). */
async function readSmallBody(response: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body) {
      total += (chunk as Buffer).length;
      if (total > limit) return Buffer.alloc(0); // leaving the loop destroys the body
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw toStreamError(error, response);
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer, method: string, url: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `${method} ${url}: the answer is not JSON (${bytes.subarray(0, 80).toString('utf8').replace(/\s+/g, ' ')}…)`,
      {
        method,
        url,
        cause: error,
      },
    );
  }
}

/** PS3.18 Annex F: a JSON array of datasets; 204 and empty bodies are an empty result. */
function parseJsonArray(bytes: Buffer, response: HttpResponse): DicomJsonDataset[] {
  if (response.status === 204 || bytes.length === 0 || bytes.toString('utf8').trim() === '')
    return [];
  const body = parseJson(bytes, response.method, response.url);
  if (
    !Array.isArray(body) ||
    body.some((item) => !item || typeof item !== 'object' || Array.isArray(item))
  ) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `${response.method} ${response.url}: expected a JSON array of DICOM datasets`,
      {
        method: response.method,
        url: response.url,
        status: response.status,
      },
    );
  }
  return body as DicomJsonDataset[];
}

/** Maps a failure while reading a multipart answer to the client's typed errors. */
function multipartFailure(error: unknown, response: HttpResponse, signal?: AbortSignal): unknown {
  if (error instanceof DicomWebError) return error;
  if (error instanceof MultipartError) {
    // A part read twice is the caller's mistake, not the server's: keep it as it is.
    if (error.code === 'INVALID_STATE' || error.code === 'PART_TOO_LARGE') return error;
    if (signal?.aborted) return toStreamError(error, response, signal);
    return new DicomWebError(
      'MALFORMED_RESPONSE',
      `${response.method} ${response.url}: ${error.message}`,
      {
        method: response.method,
        url: response.url,
        status: response.status,
        cause: error,
      },
    );
  }
  return toStreamError(error, response, signal);
}

async function* typedPartBody(
  body: AsyncIterable<Uint8Array>,
  response: HttpResponse,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    throw multipartFailure(error, response, signal);
  }
}

function toStreamError(
  error: unknown,
  response: HttpResponse,
  signal?: AbortSignal,
): DicomWebError {
  const code = (error as { code?: string })?.code ?? '';
  if (signal?.aborted || code === 'UND_ERR_ABORTED') {
    return new DicomWebError('CANCELLED', `${response.method} ${response.url} was cancelled`, {
      method: response.method,
      url: response.url,
      cause: error,
    });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new DicomWebError(
      'TIMEOUT',
      `${response.method} ${response.url}: the server stopped sending`,
      { method: response.method, url: response.url, cause: error },
    );
  }
  return new DicomWebError(
    'NETWORK',
    `${response.method} ${response.url}: ${(error as Error)?.message ?? error}`,
    {
      method: response.method,
      url: response.url,
      cause: error,
    },
  );
}
