/**
 * The DICOMweb client: QIDO-RS, WADO-RS, STOW-RS (PS3.18 §10.4–10.6) and the vendors'
 * DELETE, over one keep-alive undici pool. No `vscode` import: it runs in plain Node and
 * everything in the extension calls it.
 *
 * This file is the public facade, a list of methods in the vocabulary people know; each
 * delegates to the module that does the work: session.ts (the connection, detection, the
 * streamed retrieve), search.ts (QIDO and paging), retrieve.ts (metadata, frames, rendered,
 * bulk data), profiles/delete.ts (per server kind), transfer/ (store and download).
 */
import type { DicomJsonDataset } from '../dicom/types';
import {
  readChangeFeed,
  readChangeFeedLatest,
  type ChangeFeedEntry,
  type ChangeFeedQuery,
} from './changeFeed';
import { toCurl, type CurlOptions } from './curl';
import { deleteRequests, deleteResource } from './profiles/delete';
import type { RetrievedPart } from './parts';
import type {
  FramesOptions,
  InstancePath,
  QidoLevel,
  QidoQuery,
  QidoScope,
  RenderedOptions,
  RequestSpec,
  RetrieveOptions,
} from './requests';
import {
  retrieveBulkData,
  retrieveInstanceFile,
  retrieveInstanceFrames,
  retrieveMetadata,
  retrieveRendered,
  type Frame,
  type RetrievedBinary,
} from './retrieve';
import {
  search,
  searchAll,
  searchPage,
  type PagingOptions,
  type SearchPage,
  type SearchResult,
} from './search';
import {
  listPartitions,
  partitionBaseUrl,
  probePartitions,
  serviceRootOf,
  type PartitionEntry,
} from './partitions';
import { DicomWebSession, type RequestOptions } from './session';
import {
  retrieveToDirectory,
  type DownloadOptions,
  type DownloadResult,
} from './transfer/download';
import { storeFiles, type StoreOptions, type StoreSummary } from './transfer/store';
import {
  addExtendedQueryTags,
  deleteExtendedQueryTag,
  getExtendedQueryTag,
  getOperation,
  listExtendedQueryTagErrors,
  listExtendedQueryTags,
  updateExtendedQueryTag,
  waitForAzureOperation,
  type ExtendedQueryTag,
  type ExtendedQueryTagError,
  type ExtendedQueryTagToAdd,
  type OperationReference,
  type OperationState,
  type PageOptions,
  type WaitForOperationOptions,
} from './extendedQueryTags';

// The public names of the modules below, where importers of this file have always found them.
export { warningsOf } from './answers';
export {
  DEFAULT_PARTITION,
  MAX_LISTED_PARTITIONS,
  partitionBaseUrl,
  partitionNameProblem,
  partitionOf,
  serviceRootOf,
  type PartitionEntry,
} from './partitions';
export type { RetrievedPart } from './parts';
export type { Frame, RetrievedBinary } from './retrieve';
export {
  CLIENT_FILTER_MAX_PAGES,
  type PagingOptions,
  type SearchPage,
  type SearchResult,
} from './search';
export {
  DicomWebSession,
  type DicomWebClientOptions,
  type PortableClientOptions,
  type RequestOptions,
} from './session';

export class DicomWebClient extends DicomWebSession {
  /** Where and how this client connects, for printed code: the credential only as its kind. */
  codeConnection(): {
    baseUrl: string;
    authKind: CurlOptions['authKind'];
    headers: Record<string, string>;
  } {
    return {
      baseUrl: this.baseUrl,
      authKind: this.auth.kind,
      headers: { ...this.options.headers },
    };
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

  // -------------------------------------------------------------------------------------
  // QIDO-RS (PS3.18 §10.6): search.ts

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

  /**
   * `GET /instances?…`, `/studies/{study}/instances?…` or
   * `/studies/{study}/series/{series}/instances?…`.
   */
  searchForInstances(
    query: QidoQuery = {},
    scope: QidoScope = {},
    options: RequestOptions = {},
  ): Promise<SearchResult> {
    return this.search('instances', scope, query, options);
  }

  /**
   * Any of the six QIDO forms. 204, an empty body and `[]` all mean no match. Values the
   * server cannot take as typed are filtered on the client; `scanned` then counts the rows
   * the server sent (search.ts).
   */
  search(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    options: RequestOptions = {},
  ): Promise<SearchResult> {
    return search(this, level, scope, query, options);
  }

  /**
   * One page of results at `offset`. `hasMore` is true when the page came back full (or the
   * server's Warning says more exist); the last page is the first that comes back short.
   */
  searchPage(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery,
    offset: number,
    pageSize = 100,
    options: RequestOptions = {},
  ): Promise<SearchPage> {
    return searchPage(this, level, scope, query, offset, pageSize, options);
  }

  /**
   * Every result, page by page, coping with servers that ignore `offset`, repeat records
   * across pages or answer 204 past the end (search.ts).
   */
  searchAll(
    level: QidoLevel,
    scope: QidoScope,
    query: QidoQuery = {},
    paging: PagingOptions = {},
  ): AsyncGenerator<SearchPage> {
    return searchAll(this, level, scope, query, paging);
  }

  // -------------------------------------------------------------------------------------
  // WADO-RS metadata (PS3.18 §10.4.1.1.2): retrieve.ts

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

  /** `GET …/metadata` at the level the target names. */
  retrieveMetadata(
    target: InstancePath,
    options: RequestOptions = {},
  ): Promise<DicomJsonDataset[]> {
    return retrieveMetadata(this, target, options);
  }

  // -------------------------------------------------------------------------------------
  // WADO-RS retrieve (PS3.18 §10.4.1.1.1): `retrieve` itself is the session's (session.ts)

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
  retrieveInstanceFile(
    target: Required<InstancePath>,
    options: RetrieveOptions & RequestOptions = {},
  ): Promise<RetrievedPart> {
    return retrieveInstanceFile(this, target, options);
  }

  // -------------------------------------------------------------------------------------
  // Frames, rendered, bulk data (PS3.18 §10.4.1.1.3–§10.4.1.1.5): retrieve.ts

  /**
   * `GET …/frames/{list}`. With `transferSyntax: '*'` each frame comes back in its stored
   * encoding with its own media type; without, the server's default (Explicit VR Little
   * Endian pixels as application/octet-stream).
   */
  retrieveInstanceFrames(
    target: Required<InstancePath>,
    frameNumbers: ReadonlyArray<number>,
    options: FramesOptions & RequestOptions = {},
  ): Promise<Frame[]> {
    return retrieveInstanceFrames(this, target, frameNumbers, options);
  }

  /** `GET …/rendered` or `…/frames/{n}/rendered` as PNG (default) or JPEG. */
  retrieveRendered(
    target: Required<InstancePath>,
    frame?: number,
    options: RenderedOptions & RequestOptions = {},
  ): Promise<RetrievedBinary> {
    return retrieveRendered(this, target, frame, options);
  }

  /**
   * Fetches a BulkDataURI (absolute, or relative to the service URL) and returns its parts.
   * `multipart/related; type="application/octet-stream"` is asked for, as §8.7.3.5 defines.
   */
  retrieveBulkData(uri: string, options: RequestOptions = {}): Promise<RetrievedBinary[]> {
    return retrieveBulkData(this, uri, options);
  }

  // -------------------------------------------------------------------------------------
  // STOW-RS (PS3.18 §10.5) and downloads: transfer/

  /**
   * Stores Part 10 files: `POST /studies` (or `/studies/{study}`) in batches of
   * multipart/related requests streamed from disk, a bounded number in flight. Resolves
   * with one outcome per file, in the order given; never rejects for a server's refusal.
   */
  storeInstances(files: ReadonlyArray<string>, options: StoreOptions = {}): Promise<StoreSummary> {
    return storeFiles(this, files, options);
  }

  // -------------------------------------------------------------------------------------
  // The Azure DICOM service's change feed: changeFeed.ts

  /**
   * One page of `GET /changefeed`: by sequence on a `…/v1` URL (`offset` is the exclusive
   * starting sequence), by time window and offset on v2 and later. Typed errors:
   * `INVALID_REQUEST` before sending (a limit past the version's maximum, a window on v1),
   * `MALFORMED_RESPONSE` for an answer that is not a list of entries.
   */
  changeFeed(
    query: ChangeFeedQuery = {},
    options: RequestOptions = {},
  ): Promise<ChangeFeedEntry[]> {
    return readChangeFeed(this, query, options);
  }

  /** `GET /changefeed/latest`: the newest entry, or undefined for an empty feed. */
  changeFeedLatest(
    options: RequestOptions & { includeMetadata?: boolean } = {},
  ): Promise<ChangeFeedEntry | undefined> {
    return readChangeFeedLatest(this, options);
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
  // DELETE (not in PS3.18; by server profile): profiles/delete.ts

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
  deleteResource(target: InstancePath, options: RequestOptions = {}): Promise<void> {
    return deleteResource(this, target, options);
  }

  /** The request descriptions a delete sends, for "Copy as cURL" and the log. */
  deleteRequests(target: InstancePath): RequestSpec[] {
    return deleteRequests(this, target);
  }

  // -------------------------------------------------------------------------------------
  // Data partitions (the Azure DICOM service, the local server): partitions.ts

  private readonly partitionClients = new Map<string, DicomWebClient>();
  private partitionOf: string | undefined;

  /** The data partition this client's base URL names (a client from {@link forPartition}). */
  get partition(): string | undefined {
    return this.partitionOf;
  }

  /** `GET /partitions` of the service (400 when the service has partitions off). */
  listPartitions(options: RequestOptions = {}): Promise<PartitionEntry[]> {
    return listPartitions(this, options);
  }

  /** The partitions when the service has them on, else undefined. */
  probePartitions(options: RequestOptions = {}): Promise<PartitionEntry[] | undefined> {
    return probePartitions(this, options);
  }

  /**
   * A client for one partition of this service: the same options and credentials, its base URL
   * `{service}/partitions/{name}`, so every request and printed cURL carries the partition.
   * One per name, closed with this client.
   */
  forPartition(name: string): DicomWebClient {
    const baseUrl = partitionBaseUrl(this.baseUrl, name);
    let client = this.partitionClients.get(baseUrl);
    if (!client) {
      client = new DicomWebClient({
        ...this.options,
        baseUrl,
        serverKind: this.serverProfile.kind,
        ...(this.serverRoot ? { serverRoot: this.serverRoot } : {}),
      });
      client.partitionOf = name;
      this.partitionClients.set(baseUrl, client);
    }
    return client;
  }

  /** The service URL above any `/partitions/{name}` (where `/partitions` is listed). */
  get serviceRoot(): string {
    return serviceRootOf(this.baseUrl);
  }

  override async close(): Promise<void> {
    const partitions = [...this.partitionClients.values()];
    this.partitionClients.clear();
    await Promise.all(partitions.map((client) => client.close()));
    await super.close();
  }

  // -------------------------------------------------------------------------------------
  // Azure extended query tags and operations (Azure, the local server): extendedQueryTags.ts

  /** `GET /extendedquerytags` */
  listExtendedQueryTags(
    page: PageOptions = {},
    options: RequestOptions = {},
  ): Promise<ExtendedQueryTag[]> {
    return listExtendedQueryTags(this, page, options);
  }

  /** `GET /extendedquerytags/{tagPath}` */
  getExtendedQueryTag(path: string, options: RequestOptions = {}): Promise<ExtendedQueryTag> {
    return getExtendedQueryTag(this, path, options);
  }

  /** `POST /extendedquerytags`: answers the reindex operation to follow. */
  addExtendedQueryTags(
    tags: ReadonlyArray<ExtendedQueryTagToAdd>,
    options: RequestOptions = {},
  ): Promise<OperationReference> {
    return addExtendedQueryTags(this, tags, options);
  }

  /** `DELETE /extendedquerytags/{tagPath}` */
  deleteExtendedQueryTag(path: string, options: RequestOptions = {}): Promise<void> {
    return deleteExtendedQueryTag(this, path, options);
  }

  /** `PATCH /extendedquerytags/{tagPath}`: enables or disables QIDO on the tag. */
  updateExtendedQueryTag(
    path: string,
    change: { queryStatus: 'Enabled' | 'Disabled' },
    options: RequestOptions = {},
  ): Promise<ExtendedQueryTag> {
    return updateExtendedQueryTag(this, path, change, options);
  }

  /** `GET /extendedquerytags/{tagPath}/errors` */
  listExtendedQueryTagErrors(
    path: string,
    page: PageOptions = {},
    options: RequestOptions = {},
  ): Promise<ExtendedQueryTagError[]> {
    return listExtendedQueryTagErrors(this, path, page, options);
  }

  /** `GET /operations/{id}` */
  getOperation(id: string, options: RequestOptions = {}): Promise<OperationState> {
    return getOperation(this, id, options);
  }

  /** Polls an operation with backoff until it ends (or `signal` fires); its last state. */
  waitForOperation(id: string, options: WaitForOperationOptions = {}): Promise<OperationState> {
    return waitForAzureOperation(this, id, options);
  }
}
