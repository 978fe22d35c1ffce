/**
 * A thumbnail drawn from the frame itself, for a tooltip on a server without `/rendered`
 * or `/thumbnail`: the frame decoded by the preview's own decoders (src/imaging), windowed
 * by its display pipeline (PS3.3 C.11), shrunk and written as a small PNG.
 *
 * In the extension this runs in the thumbnail thread (decodeWorker.ts, a worker thread of
 * the extension host) with every codec the preview has: the WebAssembly ones (JPEG
 * baseline, JPEG-LS, JPEG 2000, HTJ2K) loaded by the product's Node loader
 * (src/imaging/node/codecLoader.ts). {@link PLAIN_JS_DECODERS}, the default, are those that
 * need no loader: native (every uncompressed syntax), RLE (PS3.5 Annex G) and JPEG lossless
 * (process 14, jpeg-lossless-decoder-js), for callers in plain Node that give no thread.
 */
import type { CodecName, ImageInfo } from '../imaging/types';
import { decodeFrame, type DecoderDeps, type FrameEncoding } from '../imaging/decode/decodeFrame';
import { CODEC_FILES } from '../imaging/decode/codecs';
import { DecodeError } from '../imaging/decode/types';
import { initialWindow, renderToRgba } from '../imaging/render/pipeline';
import { encodePng } from './png';
import { shrinkRgba } from './scale';

/**
 * Largest frame drawn as a thumbnail (rows × columns): 4096 × 4096, checked before the
 * frame is sent to the thread and again there. Decoding and windowing are one pass each
 * (~20 ns a pixel, more for JPEG 2000), so a frame this size keeps the thread ~0.3–2 s,
 * once, for a hover. Memory, at most, in the thread: the frame's bytes (≤ 96 MiB for
 * 3 samples of 16 bits), the decoded frame (as much again), and the RGBA image (64 MiB),
 * about 256 MiB for the one frame decoded at a time. Larger frames (whole-slide tiles, long
 * scans) say "no thumbnail" instead. The grid decodes in its webview, never here.
 */
export const MAX_HOST_DECODE_PIXELS = 4096 * 4096;

/** The decoders without WebAssembly: a codec asked for fails as "unsupported here". */
export const PLAIN_JS_DECODERS: DecoderDeps = {
  codecs: {
    get(name: CodecName) {
      return Promise.reject(
        new DecodeError(
          `${CODEC_FILES[name].label} (WebAssembly) is not loaded in this thread`,
          true,
        ),
      );
    },
  },
  jpegLossless: async () => {
    const lossless = await import('jpeg-lossless-decoder-js');
    return lossless.Decoder as unknown as new () => import('../imaging/decode/decodeFrame').JpegLosslessDecoder;
  },
};

/** The frame is larger than {@link MAX_HOST_DECODE_PIXELS}: an error to throw, else undefined. */
export function oversizeError(info: ImageInfo): DecodeError | undefined {
  if (info.rows * info.columns <= MAX_HOST_DECODE_PIXELS) return undefined;
  return new DecodeError(
    `the frame is ${info.columns}×${info.rows}, more than the ${MAX_HOST_DECODE_PIXELS.toLocaleString('en-US')} pixels drawn as a thumbnail`,
    false,
  );
}

/** Decodes frame bytes and returns a PNG of at most `size` × `size` pixels. */
export async function thumbnailPng(
  bytes: Uint8Array,
  info: ImageInfo,
  encoding: FrameEncoding,
  size: number,
  deps: DecoderDeps = PLAIN_JS_DECODERS,
): Promise<Uint8Array> {
  const oversize = oversizeError(info);
  if (oversize) throw oversize;
  const frame = await decodeFrame(bytes, info, encoding, deps);
  const window = initialWindow(info, frame);
  const rgba = new Uint8ClampedArray(frame.rows * frame.columns * 4);
  renderToRgba(
    frame,
    info,
    { windowCenter: window.center, windowWidth: window.width, invert: false },
    rgba,
  );
  const small = shrinkRgba({ width: frame.columns, height: frame.rows, rgba }, size);
  return encodePng(small.rgba, small.width, small.height, 4);
}
