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
 *   Change feed GET /changefeed, /changefeed/latest                  (changeFeedHttp.ts)
 *   Partitions    GET /partitions, and every route above under /partitions/{name} (when on;
 *                 partitions.ts)
 *   Azure         /extendedquerytags[/{tag}[/errors]], /operations/{id} (extendedQueryTagRoutes.ts)
 *
 * Plain Node 20 (`node:http`): no `vscode` import, so it runs inside the extension host and
 * standalone (cli.ts), and a test can start it in-process.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RequestGuard, normalizeOrigins } from './guard';
import { resolveLimits, checkIntervalMs, type ServerLimits } from './limits';
import { createRequestListener } from './router';
import { PARTITIONS_DIR, PartitionSet } from './partitions';
import { ExtendedQueryTagService, type ExtendedQueryTagOptions } from './extendedQueryTagService';
import { Storage, type Log } from './storage';

/** Options of {@link startLocalServer}. */
export interface LocalServerOptions {
  /** The folder to serve; created when missing. Any DICOM file below it is served. */
  dir: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1: the server is for this machine only. */
  host?: string;
  /**
   * When set, every request needs `Authorization: Bearer <token>` (else 401; the scheme in any
   * case, RFC 9110 §11.1).
   */
  token?: string;
  /**
   * Origins (`http://localhost:3000`) whose web pages may use the server through CORS. None by
   * default: any request from a page of another origin is refused with 403 (issue 10).
   */
  allowedOrigins?: string[];
  /**
   * Extra names a client may use in `Host` besides the loopback ones and the listening host (else
   * 421).
   */
  allowedHosts?: string[];
  /** Time, size and count limits; each field defaults to the constant of limits.ts. */
  limits?: Partial<ServerLimits>;
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
  /**
   * Data partitions, as the Azure DICOM service's "Enable data partitions" (partitions.ts). Off by
   * default, like the service: then `/partitions…` answers 400.
   */
  partitions?: boolean;
  /**
   * `…/rendered` and `…/thumbnail` (rendered.ts). Default true; false answers them 404, as a
   * DICOMweb server without them (one from before PS3.18 §10.4.1.1.4, a store-only archive),
   * so a client's fallback for such a server can be tried against this one.
   */
  rendered?: boolean;
  /** Limits of the extended query tags (extendedQueryTagService.ts). */
  extendedQueryTags?: ExtendedQueryTagOptions;
}

/** A running local server. */
export interface LocalServer {
  /**
   * Service URL without version, e.g. `http://127.0.0.1:8080`; add `/v2` as for Azure (both work).
   */
  url: string;
  port: number;
  /** The served folder (absolute). */
  dir: string;
  /** Numbers of studies, series and instances in the index. */
  stats(): { studies: number; series: number; instances: number };
  /** Stops listening, ends open connections, stops watching and persists the index. */
  close(): Promise<void>;
  /** Accepts one more `host[:port]` in `Host` (a forwarded address; see RequestGuard.allowHost). */
  allowHost(authority: string): void;
}

/**
 * Starts the server over a folder. Resolves once it listens: the index is loaded (or
 * rebuilt from the files) and reconciled with the folder first, so the first answer is
 * already complete.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const log: Log = options.log ?? (() => undefined);
  const dir = resolve(options.dir);
  // Settings are checked before anything starts: a bad one throws here.
  const limits = resolveLimits(options.limits);
  const allowedOrigins = normalizeOrigins(options.allowedOrigins ?? []);
  const storage = new Storage({
    dir,
    log,
    saveDelayMs: options.indexSaveDelayMs,
    maxChangeFeedEntries: limits.maxChangeFeedEntries,
  });
  const started = Date.now();
  // Read before the index: an index rebuilt from the files reads the tags' values too.
  const extendedTags = new ExtendedQueryTagService(storage, log, options.extendedQueryTags);
  await extendedTags.load();
  const opened = await storage.open({ scan: options.scanOnStart !== false });
  log(
    `index: ${storage.catalog.instanceCount} instance(s)${opened.loadedIndex ? '' : ' (rebuilt from the files)'} in ${Date.now() - started} ms`,
  );
  if (options.watch !== false) storage.watch();
  const reserved = new Set<string>();
  const partitions = options.partitions
    ? await PartitionSet.load({
        dir,
        defaultStorage: storage,
        defaultReserved: reserved,
        log,
        maxPartitions: limits.maxPartitions,
        watch: options.watch !== false,
        scanOnStart: options.scanOnStart !== false,
        indexSaveDelayMs: options.indexSaveDelayMs,
      })
    : undefined;
  // The service refuses to start with partitions off once other partitions exist
  // (DataPartitionsFeatureCannotBeDisabledException); here their folders are kept, unserved.
  if (!partitions && existsSync(join(dir, PARTITIONS_DIR)))
    log(`partitions are off: the partitions kept in ${PARTITIONS_DIR} are not served`);
  // Resumed once the partitions are known: a reindex walks every partition.
  extendedTags.attachPartitions(partitions);
  extendedTags.resume();
  return listen(options, {
    storage,
    dir,
    log,
    limits,
    allowedOrigins,
    reserved,
    partitions,
    extendedTags,
  });
}

/** What {@link listen} needs besides the options: the opened storage and the checked settings. */
interface ListenContext {
  storage: Storage;
  dir: string;
  log: Log;
  limits: ServerLimits;
  allowedOrigins: string[];
  reserved: Set<string>;
  partitions?: PartitionSet;
  extendedTags: ExtendedQueryTagService;
}

/**
 * The lifecycle: creates the HTTP server, starts listening, then routes requests (the guard
 * needs the port the server got) and returns the handle that stops it all.
 */
async function listen(options: LocalServerOptions, context: ListenContext): Promise<LocalServer> {
  const { storage, dir, log, limits, allowedOrigins, reserved, partitions, extendedTags } = context;
  const server: Server = createServer(serverOptions(options, limits));
  server.maxConnections = limits.maxConnections;
  // No byte read or written for this long closes the connection (Node destroys the socket).
  server.setTimeout(limits.socketIdleTimeoutMs);
  const sockets = trackSockets(server);
  server.on('clientError', answerClientError);

  const host = options.host ?? '127.0.0.1';
  await listenOn(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const guard = new RequestGuard({
    listenHost: host,
    port,
    allowedOrigins,
    allowedHosts: options.allowedHosts,
    token: options.token,
  });
  // Attached before any connection's callback can run: the listen callback resolved the
  // promise above, and this continuation runs as a microtask right after it.
  server.on(
    'request',
    createRequestListener({
      storage,
      dir,
      log,
      limits,
      guard,
      ownUrl: url,
      reserved,
      partitions,
      extendedTags,
      rendered: options.rendered !== false,
    }),
  );
  log(`serving ${dir} at ${url} (also ${url}/v1 and ${url}/v2)`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    allowHost: (authority) => guard.allowHost(authority),
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
        await partitions?.close();
        await extendedTags.close();
        await storage.close();
      })()),
  };
}

/** The node:http server's own limits, from the server's limits (limits.ts). */
function serverOptions(options: LocalServerOptions, limits: ServerLimits): ServerOptions {
  return {
    maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
    headersTimeout: limits.headersTimeoutMs,
    // No deadline for a whole request: a large STOW takes as long as it takes. Stalled and
    // trickling bodies are cut by watchBody (limits.ts) instead.
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks headersTimeout (its default of 30 s would let a slow header live twice
    // as long).
    connectionsCheckingInterval: checkIntervalMs(limits),
  };
}

/** The open connections, so close() can end them instead of waiting for keep-alive to lapse. */
function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * Header blocks past maxHeaderSize (431), headers too slow (408), and bytes that are not
 * HTTP (400): answered in a JSON body like every other error, then the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : 400;
  const reason =
    status === 431
      ? 'Request Header Fields Too Large'
      : status === 408
        ? 'Request Timeout'
        : 'Bad Request';
  const message =
    status === 431
      ? 'request headers are too large'
      : status === 408
        ? 'the request headers took too long'
        : 'malformed HTTP request';
  const body = JSON.stringify({ status, message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Resolves once the server listens; rejects with the listen error (EADDRINUSE, EACCES). */
function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
}
