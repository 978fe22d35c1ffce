/**
 * The local DICOMweb server: a folder served on 127.0.0.1 with the API surface of the Azure
 * DICOM service (the seed tutorial's service), so code written against Azure runs against it
 * unchanged — what Azurite is to Azure Storage.
 *
 * Routes, under `/v1`, `/v2` (any `/v{n}[.{m}][-prerelease]`) or no prefix:
 *   QIDO-RS  GET  /studies, /series, /instances, /studies/{s}/series, /studies/{s}/instances,
 *                 /studies/{s}/series/{x}/instances                         (PS3.18 §10.6)
 *   STOW-RS  POST /studies, /studies/{s}                                     (PS3.18 §10.5)
 *   WADO-RS  GET  /studies/{s}[/series/{x}[/instances/{i}]][/metadata],
 *                 …/instances/{i}/frames/{list}, …/instances/{i}/bulkdata/{tag…} (PS3.18 §10.4)
 *   DELETE        /studies/{s}[/series/{x}[/instances/{i}]]   (Azure: 204, or 404 when absent)
 *
 * Plain Node 20 (`node:http`): no `vscode` import, so it runs inside the extension host and
 * standalone (cli.ts), and a test can start it in-process.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { parseSearch, answer, runSearch } from './qido';
import { HttpError, acceptsJson, drain, parseQuery, sendError, sendJson } from './httpUtil';
import { handleStow } from './stow';
import { Storage, isAcceptableUid, type Log } from './storage';
import { retrieveBulkData, retrieveFrames, retrieveInstances, retrieveMetadata } from './wado';
import type { InstanceNode } from './catalog';

/** Options of {@link startLocalServer}. */
export interface LocalServerOptions {
  /** The folder to serve; created when missing. Any DICOM file below it is served. */
  dir: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1: the server is for this machine only. */
  host?: string;
  /** When set, every request needs `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Watch the folder for files dropped in, changed or removed. Default true. */
  watch?: boolean;
  /**
   * Walk the folder at start and reconcile it with the persisted index. Default true. False
   * trusts the index as written (faster start; files changed while stopped go unseen).
   */
  scanOnStart?: boolean;
  /** Largest request header block in bytes (default 16 KiB); larger gets 431. */
  maxHeaderBytes?: number;
  /** Where log lines go (default: nowhere). */
  log?: Log;
  /** Delay before the index is persisted after a change (default 500 ms). */
  indexSaveDelayMs?: number;
}

/** A running local server. */
export interface LocalServer {
  /** Service URL without version, e.g. `http://127.0.0.1:8080`; add `/v2` as for Azure (both work). */
  url: string;
  port: number;
  /** The served folder (absolute). */
  dir: string;
  /** Numbers of studies, series and instances in the index. */
  stats(): { studies: number; series: number; instances: number };
  /** Stops listening, ends open connections, stops watching and persists the index. */
  close(): Promise<void>;
}

/** `/v1`, `/v2`, `/v1.0-prerelease` (Azure API versions, the seed's `{Service URL}/v{version}`). */
const VERSION_PREFIX = /^\/v\d+(?:\.\d+)?(?:-prerelease)?(?=\/|$)/;

/**
 * Starts the server over a folder. Resolves once it listens: the index is loaded (or
 * rebuilt from the files) and reconciled with the folder first, so the first answer is
 * already complete.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const log: Log = options.log ?? (() => undefined);
  const dir = resolve(options.dir);
  const storage = new Storage({ dir, log, saveDelayMs: options.indexSaveDelayMs });
  const started = Date.now();
  const opened = await storage.open({ scan: options.scanOnStart !== false });
  log(
    `index: ${storage.catalog.instanceCount} instance(s)${opened.loadedIndex ? '' : ' (rebuilt from the files)'} in ${Date.now() - started} ms`,
  );
  if (options.watch !== false) storage.watch();

  const reserved = new Set<string>();
  const sockets = new Set<Socket>();
  const server: Server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
      // Large STOW uploads take as long as they take; idle sockets still time out.
      requestTimeout: 0,
      headersTimeout: 30_000,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        // The client went away mid-answer: nothing to tell it.
        if ((error as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || res.destroyed) return;
        if (error instanceof HttpError) {
          sendError(res, error.status, error.message, error.headers);
        } else {
          log(`${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`);
          sendError(res, 500, (error as Error)?.message ?? 'internal error');
        }
        // The rest of a refused upload is read and dropped so the connection can be reused.
        if (!req.readableEnded) drain(req).catch(() => req.destroy());
      });
    },
  );
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Header blocks past maxHeaderSize, and bytes that are not HTTP: answer, then close.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ status, message: status === 431 ? 'request headers are too large' : 'malformed HTTP request' });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  const expectedToken = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  let port = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // CORS for browser-based viewers on this machine (OHIF, a user's own page), like Azurite.
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'Content-Type, Content-Length, Warning, Location');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'Authorization, Content-Type, Accept',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (expectedToken) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expectedToken.length || !timingSafeEqual(given, expectedToken)) {
        throw new HttpError(401, 'a bearer token is required (Authorization: Bearer <token>)', { 'www-authenticate': 'Bearer realm="dicomweb"' });
      }
    }
    const rawUrl = req.url ?? '/';
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
    const host = /^[A-Za-z0-9.\-:[\]]+$/.test(req.headers.host ?? '') ? req.headers.host! : `127.0.0.1:${port}`;
    const baseUrl = `http://${host}${prefix}`;
    await route(req, res, decoded, search, baseUrl);
  }

  function uid(value: string, what: string): string {
    // Validated before a UID is looked up or becomes part of a path (no `..`, no `/`).
    if (!isAcceptableUid(value)) throw new HttpError(400, `${what} "${value.slice(0, 70)}" is not a valid UID`);
    return value;
  }

  function bulkDataUriFor(baseUrl: string) {
    return (node: InstanceNode, path: string[]) =>
      `${baseUrl}/studies/${node.series.study.uid}/series/${node.series.uid}/instances/${node.uid}/bulkdata/${path.join('/')}`;
  }

  async function route(req: IncomingMessage, res: ServerResponse, seg: string[], search: string, baseUrl: string): Promise<void> {
    const method = req.method ?? 'GET';
    const [root, study, level2, series, level3, instance, level4, ...rest] = seg;
    const allow = (allowed: string[]): void => {
      if (!allowed.includes(method)) throw new HttpError(405, `${method} is not allowed here`, { allow: allowed.join(', ') });
    };
    const qido = async (level: 'study' | 'series' | 'instance', scope: { studyUid?: string; seriesUid?: string }): Promise<void> => {
      allow(['GET']);
      if (!acceptsJson(req.headers.accept)) throw new HttpError(406, 'QIDO-RS answers application/dicom+json (PS3.18 §10.6.3)');
      const parsed = parseSearch(level, scope, parseQuery(search));
      const nodes = runSearch(storage.catalog, parsed);
      if (nodes.length === 0) {
        // Azure DICOM service: 204 No Content when nothing matches.
        res.writeHead(204);
        res.end();
        return;
      }
      sendJson(res, 200, await answer(dir, parsed, nodes, bulkDataUriFor(baseUrl)));
    };
    const notFound = (what: string): never => {
      throw new HttpError(404, `${what} not found`);
    };

    if (root === 'studies' && study === undefined) {
      if (method === 'POST') return handleStow(req, res, stowContext(baseUrl));
      return qido('study', {});
    }
    if ((root === 'series' || root === 'instances') && study === undefined) {
      return qido(root === 'series' ? 'series' : 'instance', {});
    }
    if (root !== 'studies' || study === undefined) return notFound(`resource ${'/' + seg.join('/')}`);
    const studyUid = uid(study, 'StudyInstanceUID');

    if (level2 === undefined) {
      allow(['GET', 'POST', 'DELETE']);
      if (method === 'POST') return handleStow(req, res, stowContext(baseUrl), studyUid);
      const nodes = storage.catalog.resolve(studyUid);
      if (!nodes.length) return notFound(`study ${studyUid}`);
      if (method === 'DELETE') return deleteNodes(res, nodes);
      return retrieveInstances(res, dir, nodes, req.headers.accept, false);
    }
    if (level2 === 'metadata' && series === undefined) return metadata(req, res, baseUrl, studyUid);
    if (level2 === 'instances' && series === undefined) return qido('instance', { studyUid });
    if (level2 !== 'series') return notFound(`resource ${'/' + seg.join('/')}`);
    if (series === undefined) return qido('series', { studyUid });
    const seriesUid = uid(series, 'SeriesInstanceUID');

    if (level3 === undefined) {
      allow(['GET', 'DELETE']);
      const nodes = storage.catalog.resolve(studyUid, seriesUid);
      if (!nodes.length) return notFound(`series ${seriesUid} of study ${studyUid}`);
      if (method === 'DELETE') return deleteNodes(res, nodes);
      return retrieveInstances(res, dir, nodes, req.headers.accept, false);
    }
    if (level3 === 'metadata' && instance === undefined) return metadata(req, res, baseUrl, studyUid, seriesUid);
    if (level3 !== 'instances') return notFound(`resource ${'/' + seg.join('/')}`);
    if (instance === undefined) return qido('instance', { studyUid, seriesUid });
    const sopUid = uid(instance, 'SOPInstanceUID');
    const nodes = storage.catalog.resolve(studyUid, seriesUid, sopUid);

    if (level4 === undefined) {
      allow(['GET', 'DELETE']);
      if (!nodes.length) return notFound(`instance ${sopUid} of series ${seriesUid} of study ${studyUid}`);
      if (method === 'DELETE') return deleteNodes(res, nodes);
      return retrieveInstances(res, dir, nodes, req.headers.accept, true);
    }
    if (level4 === 'metadata' && rest.length === 0) return metadata(req, res, baseUrl, studyUid, seriesUid, sopUid);
    if (level4 === 'frames' && rest.length === 1) {
      allow(['GET']);
      if (!nodes.length) return notFound(`instance ${sopUid}`);
      return retrieveFrames(res, dir, nodes[0]!, rest[0]!, req.headers.accept);
    }
    if (level4 === 'bulkdata' && rest.length >= 1) {
      allow(['GET']);
      if (!nodes.length) return notFound(`instance ${sopUid}`);
      return retrieveBulkData(res, dir, nodes[0]!, rest, req.headers.accept);
    }
    return notFound(`resource ${'/' + seg.join('/')} (rendered, thumbnail and other Azure extras are not offered locally)`);

    async function metadata(request: IncomingMessage, response: ServerResponse, base: string, s: string, x?: string, i?: string): Promise<void> {
      allow(['GET']);
      if (!acceptsJson(request.headers.accept)) throw new HttpError(406, 'metadata is application/dicom+json (PS3.18 §10.4.1.1.2)');
      const found = storage.catalog.resolve(s, x, i);
      if (!found.length) return notFound(i ? `instance ${i}` : x ? `series ${x}` : `study ${s}`);
      return retrieveMetadata(response, dir, found, bulkDataUriFor(base));
    }
  }

  function stowContext(baseUrl: string) {
    return { storage, baseUrl, reserved, log };
  }

  async function deleteNodes(res: ServerResponse, nodes: InstanceNode[]): Promise<void> {
    await storage.deleteInstances(nodes);
    log(`DELETE ${nodes.length} instance(s)`);
    res.writeHead(204);
    res.end();
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`serving ${dir} at ${url} (also ${url}/v1 and ${url}/v2)`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    stats: () => ({
      studies: storage.catalog.studies.size,
      series: storage.catalog.seriesByUid.size,
      instances: storage.catalog.instanceCount,
    }),
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolvePromise) => {
          server.close(() => resolvePromise());
          for (const socket of sockets) socket.destroy();
        });
        await storage.close();
      })()),
  };
}
