/**
 * Frames by message: asks the extension for a frame's bytes (`requestFrame`, answered by
 * `frame` or `frameError`), hands them to the decoders (decode/), walks down the fallback
 * chain (stored → transcoded → rendered) when a path cannot be decoded here, and keeps the
 * decoded frames in a cache bounded in bytes that keeps those nearest the shown frame.
 */
import type {
  FrameErrorMessage,
  FrameMessage,
  FramePath,
  ImageInfo,
  RequestFrameMessage,
} from '../protocol';
import { decodeFrame, type DecoderDeps } from '../../src/imaging/decode/decodeFrame';
import { minMax, type DecodedFrame } from '../../src/imaging/decode/types';
import { messageOf } from './view';
import type { Post } from './vscodeApi';

/** A decoded frame and how its bytes were obtained (for the status bar). */
export interface ShownFrame {
  frame: DecodedFrame;
  path: FramePath;
  mediaType: string;
  transferSyntaxUid?: string;
}

/** Decoded frames kept at most (pixels' bytes); beyond it the farthest from the shown go. */
const CACHE_LIMIT_BYTES = 768 * 1024 * 1024;

/** `requestFrame` messages in flight: each has an id, and its answer settles its promise. */
export class FrameRequests {
  private nextRequestId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (m: FrameMessage) => void; reject: (e: Error) => void }
  >();

  constructor(private readonly post: Post) {}

  request(frameNumber: number, from?: FramePath): Promise<FrameMessage> {
    const requestId = this.nextRequestId++;
    return new Promise<FrameMessage>((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      const message: RequestFrameMessage = from
        ? { type: 'requestFrame', requestId, frameNumber, from }
        : { type: 'requestFrame', requestId, frameNumber };
      this.post(message);
    });
  }

  /** The extension's `frame` answer. */
  answer(message: FrameMessage): void {
    const request = this.waiting.get(message.requestId);
    this.waiting.delete(message.requestId);
    request?.resolve(message);
  }

  /** The extension's `frameError` answer: no path gave bytes. */
  refuse(message: FrameErrorMessage): void {
    const request = this.waiting.get(message.requestId);
    this.waiting.delete(message.requestId);
    request?.reject(new Error(message.message));
  }
}

export interface FrameStoreSetup {
  requests: FrameRequests;
  info: ImageInfo;
  decoders: DecoderDeps;
  post: Post;
  /** The frame number shown now: the cache keeps what is near it, prefetch reads on from it. */
  shownNumber: () => number;
}

/** Decoded frames of one instance: loaded once each, cached, prefetched in order. */
export class FrameStore {
  private readonly cache = new Map<number, ShownFrame>();
  private cacheBytes = 0;
  private readonly pending = new Map<number, Promise<ShownFrame>>();
  private prefetching = false;

  constructor(private readonly setup: FrameStoreSetup) {}

  has(frameNumber: number): boolean {
    return this.cache.has(frameNumber);
  }

  /** The frame decoded, from the cache or fetched once however many callers wait for it. */
  load(frameNumber: number): Promise<ShownFrame> {
    const cached = this.cache.get(frameNumber);
    if (cached) return Promise.resolve(cached);
    let promise = this.pending.get(frameNumber);
    if (!promise) {
      promise = this.fetchAndDecode(frameNumber);
      this.pending.set(frameNumber, promise);
      void promise.finally(() => this.pending.delete(frameNumber)).catch(() => undefined);
    }
    return promise;
  }

  /** Fetches and decodes a frame, walking down the fallback chain when decoding fails. */
  private async fetchAndDecode(frameNumber: number): Promise<ShownFrame> {
    let from: FramePath | undefined;
    for (;;) {
      const message = await this.setup.requests.request(frameNumber, from);
      try {
        const frame = await decodeMessage(message, this.setup.info, this.setup.decoders);
        const shown: ShownFrame = { frame, path: message.path, mediaType: message.mediaType };
        if (message.transferSyntaxUid) shown.transferSyntaxUid = message.transferSyntaxUid;
        this.remember(frameNumber, shown);
        return shown;
      } catch (error) {
        this.setup.post({
          type: 'log',
          level: 'warn',
          message: `frame ${frameNumber} (${message.path}, ${message.mediaType}): ${messageOf(error)}`,
        });
        // Not decodable here (no codec, corrupt data): let the server try the next path
        // of the chain. A source without one (a local file) answers the same path again:
        // then this error is the answer.
        if (message.path === 'rendered' || (from !== undefined && message.path !== from))
          throw error;
        from = message.path === 'stored' ? 'transcoded' : 'rendered';
      }
    }
  }

  private remember(frameNumber: number, shown: ShownFrame): void {
    const current = this.setup.shownNumber();
    this.cache.set(frameNumber, shown);
    this.cacheBytes += shown.frame.pixels.byteLength;
    // Evict the frames farthest from the one shown when over budget.
    while (this.cacheBytes > CACHE_LIMIT_BYTES && this.cache.size > 1) {
      let farthest = -1;
      for (const key of this.cache.keys())
        if (farthest < 0 || Math.abs(key - current) > Math.abs(farthest - current)) farthest = key;
      this.cacheBytes -= this.cache.get(farthest)!.frame.pixels.byteLength;
      this.cache.delete(farthest);
    }
  }

  /** Asks for the next few frames one after another (never a burst of requests). */
  async prefetch(count: number): Promise<void> {
    if (this.prefetching) return;
    this.prefetching = true;
    try {
      const frameCount = this.setup.info.numberOfFrames;
      for (let step = 1; step <= count; step++) {
        const n = ((this.setup.shownNumber() - 1 + step) % frameCount) + 1;
        if (!this.cache.has(n)) await this.load(n).catch(() => undefined);
      }
    } finally {
      this.prefetching = false;
    }
  }
}

/** The decode hand-off: a server-rendered image to the browser, anything else to decode/. */
async function decodeMessage(
  message: FrameMessage,
  info: ImageInfo,
  decoders: DecoderDeps,
): Promise<DecodedFrame> {
  if (message.path === 'rendered' || message.mediaType === 'image/png')
    return decodeRendered(message);
  return decodeFrame(
    message.bytes,
    info,
    {
      path: message.path,
      mediaType: message.mediaType,
      transferSyntaxUid: message.transferSyntaxUid,
    },
    decoders,
  );
}

/** A server-rendered PNG/JPEG (PS3.18 §10.4.1.1.4): display only, no stored values. */
async function decodeRendered(message: FrameMessage): Promise<DecodedFrame> {
  const bitmap = await createImageBitmap(
    new Blob([message.bytes as BlobPart], { type: message.mediaType }),
  );
  const scratch = new OffscreenCanvas(bitmap.width, bitmap.height);
  const scratchContext = scratch.getContext('2d')!;
  scratchContext.drawImage(bitmap, 0, 0);
  const rgba = scratchContext.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const rgb = new Uint8Array(bitmap.width * bitmap.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  const { min, max } = minMax(rgb, 3);
  return {
    columns: bitmap.width,
    rows: bitmap.height,
    samplesPerPixel: 3,
    pixels: rgb,
    photometricInterpretation: 'RGB',
    min,
    max,
    bitsStored: 8,
    signed: false,
    decoder: 'server-rendered',
    rendered: true,
  };
}
