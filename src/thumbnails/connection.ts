/**
 * The thumbnails of one connection (issue 14): where each image comes from, a cache and a
 * bound on requests in flight. No `vscode`: the tree's tooltip and the grid panel
 * (src/thumbnailsHost/) call it, the tests run it in plain Node.
 *
 * Sources, in order:
 *  1. the server's `/thumbnail` (PS3.18 §10.4.1, Supplement 203) then `/rendered`
 *     (§10.4.1.1.4), each with `viewport` (§8.3.5.1.3), where the connection's profile
 *     says the server may have it (src/dicomweb/profiles/); the first answer probes the
 *     endpoint, and what it found is remembered for the connection: present after one
 *     image, absent after a "no such resource" answer (400, 404, 405, 406, 415, 501), so a
 *     server without it is asked once, not once per instance;
 *  2. otherwise the frame itself (`transfer-syntax=*`, the smallest request: frame 1, as
 *     the preview asks) with the instance's metadata, decoded where the caller decodes: in
 *     the grid's webview, or for a tooltip by the connection's decoder (in the extension,
 *     the thumbnail thread: decodeWorker.ts; in plain Node, hostDecode.ts in this thread).
 *
 * Every request runs inside one slot of the connection's {@link RequestLimiter} (a task's
 * metadata and frame requests one after the other), and every one takes the caller's
 * AbortSignal: a tile scrolled away or a hover that ended stops its request.
 */
import type { DicomWebClient } from '../dicomweb/client';
import { DicomWebHttpError } from '../dicomweb/transport/errors';
import { retrieveThumbnail } from '../dicomweb/thumbnail';
import type { FramePath, ImageInfo } from '../imaging/types';
import { DecodeError } from '../imaging/decode/types';
import {
  DicomWebFrameSource,
  type InstanceTarget,
  type SourcedFrame,
} from '../preview/frameSource';
import { LruCache, type CacheLimits } from './cache';
import type { ThumbnailDecoder } from './decodeWorker';
import { thumbnailPng } from './hostDecode';
import { RequestLimiter } from './limiter';
import { isPng } from './png';

/** The longer side of a thumbnail, in pixels (tooltip and grid tile). */
export const THUMBNAIL_SIZE = 128;

/**
 * What a connection keeps: 2,000 images or 32 MiB, whichever comes first. A 128-pixel
 * PNG is 5–40 KB, so a few series' worth stay and a scroll back costs nothing.
 */
export const CACHE_LIMITS: CacheLimits = { maxEntries: 2_000, maxBytes: 32 * 1024 * 1024 };

/**
 * Largest image a tooltip carries, in bytes: VS Code's Markdown renderer cuts a hover's text
 * at 100,000 characters (vs/base/browser/markdownRenderer.ts), and the image is base64
 * (4/3 larger) inside it.
 */
export const MAX_TOOLTIP_IMAGE_BYTES = 60_000;

export type ThumbnailEndpoint = 'thumbnail' | 'rendered';
export type EndpointState = 'unknown' | 'present' | 'absent';

/** A displayable image: the server's, or one the extension host drew. */
export interface ThumbnailImage {
  kind: 'image';
  mediaType: string;
  bytes: Uint8Array;
  source: ThumbnailEndpoint | 'decoded';
}

/** A frame for the caller to decode (the grid's webview), with what decoding needs. */
export interface ThumbnailFrame {
  kind: 'frame';
  info: ImageInfo;
  path: FramePath;
  mediaType: string;
  transferSyntaxUid?: string;
  bytes: Uint8Array;
}

/** Why there is no thumbnail, in one sentence. */
export class NoThumbnailError extends Error {
  override readonly name = 'NoThumbnailError';
}

const RENDERED_TYPES = new Set(['image/png', 'image/jpeg']);

/** HTTP statuses that mean "this server has no such resource", not "this instance failed". */
const MISSING_STATUSES = new Set([400, 404, 405, 406, 415, 501]);

type Probe = Promise<'present' | 'absent' | 'retry'>;

export interface ConnectionThumbnailsOptions {
  size?: number;
  limiter?: RequestLimiter;
  cacheLimits?: CacheLimits;
  log?: (line: string) => void;
  /**
   * Draws a tooltip's thumbnail from a frame: the extension gives the thumbnail thread's
   * (decodeWorker.ts); by default this thread with the plain-JavaScript decoders.
   */
  decode?: ThumbnailDecoder;
}

export class ConnectionThumbnails {
  readonly size: number;
  readonly limiter: RequestLimiter;
  readonly cache: LruCache<ThumbnailImage>;
  private readonly probes = new Map<ThumbnailEndpoint, Probe>();
  private readonly log: (line: string) => void;
  private readonly decode: ThumbnailDecoder;

  constructor(
    readonly client: DicomWebClient,
    options: ConnectionThumbnailsOptions = {},
  ) {
    this.size = options.size ?? THUMBNAIL_SIZE;
    this.limiter = options.limiter ?? new RequestLimiter();
    this.cache = new LruCache(
      options.cacheLimits ?? CACHE_LIMITS,
      (image) => image.bytes.byteLength,
    );
    this.log = options.log ?? (() => undefined);
    this.decode =
      options.decode ??
      ((bytes, info, encoding, size) => thumbnailPng(bytes, info, encoding, size));
  }

  /** The endpoints the profile allows, in the order they are tried. */
  endpoints(): ThumbnailEndpoint[] {
    const capabilities = this.client.serverProfile.capabilities;
    const endpoints: ThumbnailEndpoint[] = [];
    if (capabilities.thumbnail) endpoints.push('thumbnail');
    if (capabilities.rendered) endpoints.push('rendered');
    return endpoints;
  }

  /** What the probe found so far ('unknown' while none finished). */
  async endpointState(endpoint: ThumbnailEndpoint): Promise<EndpointState> {
    const probe = this.probes.get(endpoint);
    if (!probe) return 'unknown';
    const state = await probe;
    return state === 'retry' ? 'unknown' : state;
  }

  private key(target: InstanceTarget): string {
    return `${target.studyInstanceUid}/${target.seriesInstanceUid}/${target.sopInstanceUid}@${this.size}`;
  }

  /** A cached image, if any (no request). */
  cached(target: InstanceTarget): ThumbnailImage | undefined {
    return this.cache.get(this.key(target));
  }

  /**
   * For the grid: the server's image, or else the frame for the webview to decode. One
   * limiter slot for the whole task.
   */
  tile(
    target: InstanceTarget,
    signal?: AbortSignal,
    from?: FramePath,
  ): Promise<ThumbnailImage | ThumbnailFrame> {
    // `from`: the webview could not decode the stored frame; it asks the next path.
    if (from) return this.limiter.run(() => this.frame(target, signal, from), signal);
    const cached = this.cached(target);
    if (cached) return Promise.resolve(cached);
    return this.limiter.run(async () => {
      const image = await this.serverImage(target, signal);
      if (image) return image;
      return this.frame(target, signal);
    }, signal);
  }

  /**
   * For a tooltip: the server's image, or a PNG drawn here from the frame (hostDecode.ts).
   * @throws NoThumbnailError with the reason when neither works.
   */
  image(target: InstanceTarget, signal?: AbortSignal): Promise<ThumbnailImage> {
    const cached = this.cached(target);
    if (cached) return Promise.resolve(cached);
    return this.limiter.run(async () => {
      const image =
        (await this.serverImage(target, signal)) ?? (await this.decodeHere(target, signal));
      this.cache.set(this.key(target), image);
      return image;
    }, signal);
  }

  /** Tries each endpoint the profile allows; undefined when none gave an image. */
  private async serverImage(
    target: InstanceTarget,
    signal?: AbortSignal,
  ): Promise<ThumbnailImage | undefined> {
    for (const endpoint of this.endpoints()) {
      const image = await this.fromEndpoint(endpoint, target, signal);
      if (image) {
        this.cache.set(this.key(target), image);
        return image;
      }
    }
    return undefined;
  }

  /**
   * One endpoint, probing it when nobody has yet. While a probe runs, other tasks wait for
   * its verdict instead of sending the same doomed request.
   */
  private async fromEndpoint(
    endpoint: ThumbnailEndpoint,
    target: InstanceTarget,
    signal?: AbortSignal,
  ): Promise<ThumbnailImage | undefined> {
    for (;;) {
      const probe = this.probes.get(endpoint);
      if (probe) {
        const state = await probe;
        if (state === 'absent') return undefined;
        if (state === 'retry' && this.probes.get(endpoint) === probe) this.probes.delete(endpoint);
        if (state === 'retry') continue;
        // Present: a failure now is this instance's (not renderable), not the server's.
        try {
          return await this.fetchEndpoint(endpoint, target, signal);
        } catch (error) {
          if (signal?.aborted) throw error;
          this.log(
            `${endpoint} of ${target.sopInstanceUid}: ${messageOf(error)}; decoding the frame instead`,
          );
          return undefined;
        }
      }
      let settle!: (state: 'present' | 'absent' | 'retry') => void;
      this.probes.set(endpoint, new Promise((resolve) => (settle = resolve)));
      try {
        const image = await this.fetchEndpoint(endpoint, target, signal);
        settle('present');
        this.log(`${endpoint}: the server has it (${this.client.serverProfile.label})`);
        return image;
      } catch (error) {
        const missing =
          !signal?.aborted &&
          error instanceof DicomWebHttpError &&
          MISSING_STATUSES.has(error.status);
        settle(missing ? 'absent' : 'retry');
        if (signal?.aborted) throw error;
        this.log(
          missing
            ? `${endpoint}: the server has none (${messageOf(error)}); not asked again on this connection`
            : `${endpoint} of ${target.sopInstanceUid}: ${messageOf(error)}`,
        );
        return undefined;
      }
    }
  }

  private async fetchEndpoint(
    endpoint: ThumbnailEndpoint,
    target: InstanceTarget,
    signal?: AbortSignal,
  ): Promise<ThumbnailImage> {
    const viewport = { width: this.size, height: this.size };
    const answer =
      endpoint === 'thumbnail'
        ? await retrieveThumbnail(this.client, target, { viewport, signal })
        : await this.client.retrieveRendered(target, undefined, {
            viewport,
            mediaType: 'image/png',
            signal,
          });
    // PNG or JPEG only (PS3.18 §8.7.4 rendered media types): what a tooltip's data: URI and
    // the grid's page show; anything else (an SVG, an HTML error page) is not an image here.
    const mediaType = answer.mediaType.toLowerCase();
    if (!RENDERED_TYPES.has(mediaType) || answer.data.byteLength === 0)
      throw new Error(
        `the answer is ${answer.data.byteLength} bytes of ${answer.mediaType || 'no type'}, not a PNG or JPEG`,
      );
    return {
      kind: 'image',
      mediaType,
      bytes: answer.data,
      source: endpoint,
    };
  }

  /** Frame 1 as stored, with the instance's image description. */
  private async frame(
    target: InstanceTarget,
    signal?: AbortSignal,
    from: FramePath = 'stored',
  ): Promise<ThumbnailFrame> {
    const source = new DicomWebFrameSource(this.client, target, this.log);
    const { info } = await source.open(signal);
    return asFrame(info, await source.frame(1, from, signal));
  }

  /**
   * Draws the thumbnail from the frame: the stored frame when the decoder reads it (the
   * thumbnail thread reads every syntax the preview does), else the frame transcoded to
   * Explicit VR Little Endian (§8.7.3.5.2), else the server's `/rendered` when the chain
   * reaches it.
   */
  private async decodeHere(target: InstanceTarget, signal?: AbortSignal): Promise<ThumbnailImage> {
    const source = new DicomWebFrameSource(this.client, target, this.log);
    const { info } = await source.open(signal);
    let from: FramePath = 'stored';
    for (;;) {
      const frame = await source.frame(1, from, signal);
      if (frame.path === 'rendered') {
        if (!isPng(frame.bytes))
          throw new NoThumbnailError('the server rendered no PNG for this instance');
        return { kind: 'image', mediaType: 'image/png', bytes: frame.bytes, source: 'rendered' };
      }
      try {
        const png = await this.decode(frame.bytes, info, frame, this.size, signal);
        return { kind: 'image', mediaType: 'image/png', bytes: png, source: 'decoded' };
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        if (!error.unsupported || frame.path !== 'stored')
          throw new NoThumbnailError(`No thumbnail: ${error.message}.`);
        from = 'transcoded';
      }
    }
  }
}

function asFrame(info: ImageInfo, frame: SourcedFrame): ThumbnailFrame {
  const answer: ThumbnailFrame = {
    kind: 'frame',
    info,
    path: frame.path,
    mediaType: frame.mediaType,
    bytes: frame.bytes,
  };
  if (frame.transferSyntaxUid) answer.transferSyntaxUid = frame.transferSyntaxUid;
  return answer;
}

function messageOf(error: unknown): string {
  if (error instanceof DicomWebHttpError) return `HTTP ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * One {@link ConnectionThumbnails} per client: a client is made per connection (and
 * anew when the connection changes), so its probe results and cache go with it.
 */
export class ThumbnailRegistry {
  private readonly byClient = new WeakMap<DicomWebClient, ConnectionThumbnails>();

  constructor(private readonly options: ConnectionThumbnailsOptions = {}) {}

  of(client: DicomWebClient): ConnectionThumbnails {
    let thumbnails = this.byClient.get(client);
    if (!thumbnails) {
      thumbnails = new ConnectionThumbnails(client, {
        ...this.options,
        limiter: new RequestLimiter(),
      });
      this.byClient.set(client, thumbnails);
    }
    return thumbnails;
  }
}
