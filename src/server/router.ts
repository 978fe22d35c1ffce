/**
 * The local server's routes (see lifecycle.ts for the list) and the per-request checks
 * that run before them: who is asking (guard.ts) and how large and slow the request may be
 * (limits.ts).
 *
 * Every URL the server writes (RetrieveURL, BulkDataURI) is built from its own listening
 * address, never from the request's `Host`: a request cannot make the server write another
 * host into its answers (issue 10, finding 3).
 *
 * Plain Node: no `vscode` import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InstanceNode } from './catalog';
import type { FeedEntry } from './changeFeed';
import { handleChangeFeed, type FeedPlace } from './changeFeedHttp';
import type { RequestGuard } from './guard';
import { routeExtendedQueryTags, routeOperations } from './extendedQueryTagRoutes';
import type { ExtendedQueryTagService } from './extendedQueryTagService';
import {
  HttpError,
  acceptsJson,
  closeAfterAnswer,
  drain,
  parseQuery,
  sendError,
  sendJson,
} from './httpUtil';
import { watchBody, type ServerLimits } from './limits';
import { scopeToPartition, type PartitionSet } from './partitions';
import { answer, parseSearch, runSearch } from './qido';
import { retrieveRendered, type RenderedTarget } from './rendered';
import { handleStow } from './stow';
import { isAcceptableUid, type Log, type Storage } from './storage';
import { retrieveBulkData, retrieveFrames, retrieveInstances, retrieveMetadata } from './wado';

/** `/v1`, `/v2`, `/v1.0-prerelease` (Azure API versions, the seed's `{Service URL}/v{version}`). */
const VERSION_PREFIX = /^\/v\d+(?:\.\d+)?(?:-prerelease)?(?=\/|$)/;

export interface RouterContext {
  storage: Storage;
  dir: string;
  log: Log;
  limits: ServerLimits;
  guard: RequestGuard;
  /** The server's own URL (`http://127.0.0.1:PORT`), the base of every URL it writes. */
  ownUrl: string;
  /** SOP Instance UIDs being stored by requests in flight. */
  reserved: Set<string>;
  /** Data partitions, when on (partitions.ts): a request then runs in its partition's context. */
  partitions?: PartitionSet;
  /** The partition the request's path named (`/partitions/{name}/…`), when it named one. */
  partition?: string;
  /** `/extendedquerytags` and `/operations` (Azure); absent: 404 as before. */
  extendedTags?: ExtendedQueryTagService;
  /** False: `…/rendered` and `…/thumbnail` answer 404 (LocalServerOptions.rendered). */
  rendered?: boolean;
}

/** The request listener of the server. */
export function createRequestListener(
  context: RouterContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(context, req, res).catch((error: unknown) => {
      // The client went away mid-answer: nothing to tell it.
      if ((error as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || res.destroyed)
        return;
      const status = error instanceof HttpError ? error.status : 500;
      // A 413 closes the connection while the client may still be sending its body.
      if (status === 413 && !req.readableEnded) closeAfterAnswer(req, context.limits.lingerMs);
      if (error instanceof HttpError) {
        sendError(res, error.status, error.message, error.headers);
      } else {
        context.log(`${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`);
        sendError(res, 500, (error as Error)?.message ?? 'internal error');
      }
      // The rest of a refused upload is read and dropped so the connection can be reused,
      // up to the body limit; an over-long one (413) is closed by its `Connection: close`.
      if (!req.readableEnded && status !== 413)
        drain(req, bodyLimit(context.limits, req)).catch(() => req.destroy());
    });
  };
}

/** STOW-RS and upsert (PUT) are the requests with a body; every other one gets the small limit. */
function bodyLimit(limits: ServerLimits, req: IncomingMessage): number {
  return isStore(req) ? limits.maxStowBodyBytes : limits.maxOtherBodyBytes;
}

function isStore(req: IncomingMessage): boolean {
  return req.method === 'POST' || req.method === 'PUT';
}

async function handle(
  context: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // Answers are data, never a page: a browser must not sniff a stored file into HTML.
  res.setHeader('x-content-type-options', 'nosniff');
  // RFC 9110 §10.2.4: names the product so "Add Server" detects the local server's profile
  // (LOCAL_SERVER_PRODUCT in src/dicomweb/profiles/detection.ts); no version, nothing to
  // fingerprint.
  res.setHeader('server', 'dicomweb-explorer-local/1');
  if (context.guard.admit(req, res)) return;
  checkDeclaredBody(context.limits, req, res);
  watchBody(req, res, context.limits, (why) =>
    context.log(`${req.method} ${req.url}: ${why}; connection closed`),
  );
  const rawUrl = req.url ?? '/';
  // RFC 9112 §3.2: origin-form only; an absolute-form target would name a host of its own.
  if (!rawUrl.startsWith('/'))
    throw new HttpError(400, 'the request target must be a path (origin-form, RFC 9112 §3.2.1)');
  const queryAt = rawUrl.indexOf('?');
  let path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const search = queryAt < 0 ? '' : rawUrl.slice(queryAt);
  const prefix = VERSION_PREFIX.exec(path)?.[0] ?? '';
  path = path.slice(prefix.length);
  const segments = path.split('/').filter((s, i) => i > 0 || s !== '');
  if (segments.length && segments[segments.length - 1] === '') segments.pop();
  let decoded: string[];
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, 'malformed percent-escape in the path');
  }
  const scoped = await scopeToPartition(context, req.method ?? 'GET', decoded, (entries) =>
    sendJson(res, 200, entries, 'application/json'),
  );
  if (!scoped) return;
  const baseUrl = `${context.ownUrl}${prefix}${scoped.basePath}`;
  await route(scoped.context, req, res, scoped.segments, search, baseUrl);
}

/**
 * 413 from the declared length, before a byte of the body is read (RFC 9110 §15.5.14); the
 * connection is closed after the answer so the body is never read. A body to a request that
 * takes none (anything but STOW) is not read either: its connection closes after the answer.
 */
function checkDeclaredBody(limits: ServerLimits, req: IncomingMessage, res: ServerResponse): void {
  const max = bodyLimit(limits, req);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    throw new HttpError(
      413,
      `the request body of ${declared} bytes is larger than the ${max} bytes this request may carry`,
      { connection: 'close' },
    );
  }
  // RFC 9112 §6.3: a request has a body when it declares a length above 0 or a transfer coding.
  const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!isStore(req) && hasBody) res.setHeader('connection', 'close');
}

function uid(value: string, what: string): string {
  // Validated before a UID is looked up or becomes part of a path (no `..`, no `/`).
  if (!isAcceptableUid(value))
    throw new HttpError(400, `${what} "${value.slice(0, 70)}" is not a valid UID`);
  return value;
}

/**
 * 1 for `…/v1` and `…/v1.0-prerelease`, 2 for `…/v2`; 2 (the latest) without a prefix. The
 * version is the path's first segment: `…/v1/partitions/{name}` is v1 too.
 */
function apiMajorVersion(baseUrl: string): number {
  const match = /^\/v(\d+)(?:\.\d+)?(?:-prerelease)?(?=\/|$)/.exec(new URL(baseUrl).pathname);
  return match ? Number(match[1]) : 2;
}

function bulkDataUriFor(baseUrl: string) {
  return (node: InstanceNode, path: string[]) =>
    `${baseUrl}/studies/${node.series.study.uid}/series/${node.series.uid}/instances/${node.uid}/bulkdata/${path.join('/')}`;
}

/**
 * One request being answered: what every route needs and the answers several routes share
 * (QIDO-RS search, STOW-RS, metadata, retrieve, delete), so the dispatch below reads as a table.
 */
class Exchange {
  readonly method: string;

  constructor(
    readonly context: RouterContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The server's own URL with the request's version prefix: the base of URLs it writes. */
    readonly baseUrl: string,
    /** The query string, `?…` or empty. */
    readonly search: string,
  ) {
    this.method = req.method ?? 'GET';
  }

  /** 405 with the methods that are (RFC 9110 §15.5.6: an Allow header). */
  allow(allowed: string[]): void {
    if (!allowed.includes(this.method))
      throw new HttpError(405, `${this.method} is not allowed here`, { allow: allowed.join(', ') });
  }

  async qido(
    level: 'study' | 'series' | 'instance',
    scope: { studyUid?: string; seriesUid?: string },
  ): Promise<void> {
    this.allow(['GET']);
    if (!acceptsJson(this.req.headers.accept))
      throw new HttpError(406, 'QIDO-RS answers application/dicom+json (PS3.18 §10.6.3)');
    const { storage, dir } = this.context;
    const parsed = parseSearch(
      level,
      scope,
      parseQuery(this.search),
      this.context.extendedTags?.queryFields(),
    );
    const nodes = runSearch(storage.catalog, parsed);
    if (nodes.length === 0) {
      // Azure DICOM service: 204 No Content when nothing matches.
      this.res.writeHead(204);
      this.res.end();
      return;
    }
    const results = await answer(dir, parsed, nodes, bulkDataUriFor(this.baseUrl), this.baseUrl);
    sendJson(this.res, 200, results);
  }

  /** STOW-RS (`POST`), or the Azure v2 upsert (`PUT`, upsert.ts). */
  async stow(studyUid?: string): Promise<void> {
    const { storage, reserved, log, limits } = this.context;
    const upsert = this.method === 'PUT';
    // Upsert is in the conformance statement v2 only; v1 has no PUT route, so ASP.NET's
    // routing answers 405 for the path's other methods (test/support/targets.ts).
    if (upsert && apiMajorVersion(this.baseUrl) < 2)
      throw new HttpError(405, 'PUT (upsert) is offered from API v2 on', {
        allow: studyUid ? 'GET, POST, DELETE' : 'GET, POST',
      });
    await handleStow(
      this.req,
      this.res,
      {
        storage,
        baseUrl: this.baseUrl,
        reserved,
        log,
        maxBodyBytes: limits.maxStowBodyBytes,
        apiVersion: apiMajorVersion(this.baseUrl),
        upsert,
      },
      studyUid,
    );
  }

  async deleteNodes(nodes: InstanceNode[]): Promise<void> {
    await this.context.storage.deleteInstances(nodes);
    this.context.log(`DELETE ${nodes.length} instance(s)`);
    this.res.writeHead(204);
    this.res.end();
  }

  async metadata(s: string, x?: string, i?: string): Promise<void> {
    this.allow(['GET']);
    if (!acceptsJson(this.req.headers.accept))
      throw new HttpError(406, 'metadata is application/dicom+json (PS3.18 §10.4.1.1.2)');
    const { storage, dir } = this.context;
    const found = storage.catalog.resolve(s, x, i);
    if (!found.length) return notFound(i ? `instance ${i}` : x ? `series ${x}` : `study ${s}`);
    return retrieveMetadata(this.res, dir, found, bulkDataUriFor(this.baseUrl));
  }

  /** WADO-RS of whole instances; `single` for the instance level. */
  retrieve(nodes: InstanceNode[], single: boolean): Promise<void> {
    const { dir, limits } = this.context;
    return retrieveInstances(
      this.res,
      dir,
      nodes,
      this.req.headers.accept,
      single,
      limits.maxTranscodeBytes,
    );
  }

  /** `…/rendered`, `…/thumbnail` (PS3.18 §10.4.1.1.3-4): rendered.ts. */
  rendered(target: RenderedTarget, what: string): Promise<void> {
    this.allow(['GET']);
    if (this.context.rendered === false)
      return notFound(`rendered images of ${what} (not offered by this server)`);
    if (!target.nodes.length) return notFound(what);
    const { dir, limits } = this.context;
    return retrieveRendered(
      this.res,
      dir,
      target,
      this.search,
      this.req.headers.accept,
      limits.maxTranscodeBytes,
    );
  }
}

function notFound(what: string): never {
  throw new HttpError(404, `${what} not found`);
}

function unknownResource(seg: string[], more = ''): never {
  return notFound(`resource ${'/' + seg.join('/')}${more}`);
}

/** The dispatch table, level by level: the service root, then study, series, instance. */
async function route(
  context: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
  seg: string[],
  search: string,
  baseUrl: string,
): Promise<void> {
  const exchange = new Exchange(context, req, res, baseUrl, search);
  const [root, study] = seg;
  const tags = context.extendedTags;
  if (tags && (root === 'extendedquerytags' || root === 'operations')) {
    const tagContext = { service: tags, req, res, method: exchange.method, baseUrl, search };
    const apiVersion = apiMajorVersion(baseUrl);
    if (root === 'operations') return routeOperations({ ...tagContext, apiVersion }, seg.slice(1));
    return routeExtendedQueryTags({ ...tagContext, apiVersion }, seg.slice(1));
  }
  if (root === 'studies' && study === undefined) {
    if (exchange.method === 'POST' || exchange.method === 'PUT') return exchange.stow();
    return exchange.qido('study', {});
  }
  // The service's feed only, at the base URI: Azure routes /changefeed without a partition
  // (ChangeFeedController's VersionedRoute), so `/partitions/{name}/changefeed` is 404.
  const feed = context.partition === undefined ? context.storage.changeFeed : undefined;
  if (root === 'changefeed' && feed) {
    const request = { method: exchange.method, rest: seg.slice(1), search };
    return handleChangeFeed(
      res,
      { ...request, apiVersion: apiMajorVersion(baseUrl) },
      {
        feed,
        partitioned: context.partitions !== undefined,
        placeOf: feedPlaces(context, baseUrl),
      },
    );
  }
  if ((root === 'series' || root === 'instances') && study === undefined) {
    return exchange.qido(root === 'series' ? 'series' : 'instance', {});
  }
  if (root !== 'studies' || study === undefined) return unknownResource(seg);
  return routeStudy(exchange, seg, uid(study, 'StudyInstanceUID'));
}

/**
 * Where a feed entry's instance is served: the served folder's store, or with data partitions
 * the store of the partition the entry names, with BulkDataURIs under that partition's URL.
 */
function feedPlaces(
  context: RouterContext,
  baseUrl: string,
): (entry: FeedEntry) => Promise<FeedPlace | undefined> {
  const served: FeedPlace = {
    catalog: context.storage.catalog,
    dir: context.dir,
    bulkDataUri: bulkDataUriFor(baseUrl),
  };
  return async (entry) => {
    const { partitions } = context;
    if (!partitions || entry.partition === undefined) return served;
    const partition = await partitions.resolve(entry.partition, false).catch(() => undefined);
    if (!partition) return undefined;
    const name = encodeURIComponent(partition.entry.partitionName);
    return {
      catalog: partition.storage.catalog,
      dir: partition.storage.dir,
      bulkDataUri: bulkDataUriFor(`${baseUrl}/partitions/${name}`),
    };
  };
}

/** `/studies/{study}…` */
async function routeStudy(exchange: Exchange, seg: string[], studyUid: string): Promise<void> {
  const [, , level2, series] = seg;
  if (level2 === undefined) {
    exchange.allow(['GET', 'POST', 'PUT', 'DELETE']);
    if (exchange.method === 'POST' || exchange.method === 'PUT') return exchange.stow(studyUid);
    const nodes = exchange.context.storage.catalog.resolve(studyUid);
    if (!nodes.length) return notFound(`study ${studyUid}`);
    if (exchange.method === 'DELETE') return exchange.deleteNodes(nodes);
    return exchange.retrieve(nodes, false);
  }
  if (level2 === 'metadata' && series === undefined) return exchange.metadata(studyUid);
  if (level2 === 'thumbnail' && series === undefined) {
    const nodes = exchange.context.storage.catalog.resolve(studyUid);
    const target = { nodes, thumbnail: true, representative: true };
    return exchange.rendered(target, `study ${studyUid}`);
  }
  if (level2 === 'instances' && series === undefined)
    return exchange.qido('instance', { studyUid });
  if (level2 !== 'series') return unknownResource(seg);
  if (series === undefined) return exchange.qido('series', { studyUid });
  return routeSeries(exchange, seg, studyUid, uid(series, 'SeriesInstanceUID'));
}

/** `/studies/{study}/series/{series}…` */
async function routeSeries(
  exchange: Exchange,
  seg: string[],
  studyUid: string,
  seriesUid: string,
): Promise<void> {
  const [, , , , level3, instance] = seg;
  if (level3 === undefined) {
    exchange.allow(['GET', 'DELETE']);
    const nodes = exchange.context.storage.catalog.resolve(studyUid, seriesUid);
    if (!nodes.length) return notFound(`series ${seriesUid} of study ${studyUid}`);
    if (exchange.method === 'DELETE') return exchange.deleteNodes(nodes);
    return exchange.retrieve(nodes, false);
  }
  if (level3 === 'metadata' && instance === undefined)
    return exchange.metadata(studyUid, seriesUid);
  if (level3 === 'thumbnail' && instance === undefined) {
    const nodes = exchange.context.storage.catalog.resolve(studyUid, seriesUid);
    const target = { nodes, thumbnail: true, representative: true };
    return exchange.rendered(target, `series ${seriesUid} of study ${studyUid}`);
  }
  if (level3 !== 'instances') return unknownResource(seg);
  if (instance === undefined) return exchange.qido('instance', { studyUid, seriesUid });
  return routeInstance(exchange, seg, studyUid, seriesUid, uid(instance, 'SOPInstanceUID'));
}

/** `/studies/{s}/series/{x}/instances/{i}…`: the instance, its metadata, frames, bulk data. */
async function routeInstance(
  exchange: Exchange,
  seg: string[],
  studyUid: string,
  seriesUid: string,
  sopUid: string,
): Promise<void> {
  const [, , , , , , level4, ...rest] = seg;
  const { storage, dir, limits } = exchange.context;
  const { res, req } = exchange;
  const nodes = storage.catalog.resolve(studyUid, seriesUid, sopUid);
  if (level4 === undefined) {
    exchange.allow(['GET', 'DELETE']);
    if (!nodes.length)
      return notFound(`instance ${sopUid} of series ${seriesUid} of study ${studyUid}`);
    if (exchange.method === 'DELETE') return exchange.deleteNodes(nodes);
    return exchange.retrieve(nodes, true);
  }
  if (level4 === 'metadata' && rest.length === 0)
    return exchange.metadata(studyUid, seriesUid, sopUid);
  if ((level4 === 'rendered' || level4 === 'thumbnail') && rest.length === 0) {
    const target = { nodes, thumbnail: level4 === 'thumbnail', representative: false };
    return exchange.rendered(target, `instance ${sopUid}`);
  }
  if (level4 === 'frames' && rest.length === 2 && /^(rendered|thumbnail)$/.test(rest[1]!)) {
    const thumbnail = rest[1] === 'thumbnail';
    const target = { nodes, frameText: rest[0]!, thumbnail, representative: false };
    return exchange.rendered(target, `instance ${sopUid}`);
  }
  if (level4 === 'frames' && rest.length === 1) {
    exchange.allow(['GET']);
    if (!nodes.length) return notFound(`instance ${sopUid}`);
    return retrieveFrames(
      res,
      dir,
      nodes[0]!,
      rest[0]!,
      req.headers.accept,
      limits.maxFrameListLength,
    );
  }
  if (level4 === 'bulkdata' && rest.length >= 1) {
    exchange.allow(['GET']);
    if (!nodes.length) return notFound(`instance ${sopUid}`);
    return retrieveBulkData(res, dir, nodes[0]!, rest, req.headers.accept);
  }
  return unknownResource(
    seg,
    ' (study and series /rendered are not offered locally; /thumbnail is)',
  );
}
