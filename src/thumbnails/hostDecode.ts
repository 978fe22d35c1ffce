/**
 * A thumbnail drawn in the extension host, for a tooltip on a server without `/rendered`
 * or `/thumbnail`: the frame decoded by the preview's own decoders (src/imaging), windowed
 * by its display pipeline (PS3.3 C.11), shrunk and written as a small PNG.
 *
 * Only the decoders that are plain JavaScript run here: native (every uncompressed syntax),
 * RLE (PS3.5 Annex G) and JPEG lossless (process 14, jpeg-lossless-decoder-js). The
 * WebAssembly codecs (JPEG baseline, JPEG-LS, JPEG 2000, HTJ2K) are not loaded in the host:
 * the product's Node loader for them belongs to the local server (src/server), and the
 * preview and the grid decode those in the webview. A frame that needs one is asked again
 * transcoded to Explicit VR Little Endian (connection.ts), which the server may offer.
 */
import type { CodecName, ImageInfo } from '../imaging/types';
import { decodeFrame, type DecoderDeps, type FrameEncoding } from '../imaging/decode/decodeFrame';
import { CODEC_FILES } from '../imaging/decode/codecs';
import { DecodeError } from '../imaging/decode/types';
import { initialWindow, renderToRgba } from '../imaging/render/pipeline';
import { encodePng } from './png';
import { shrinkRgba } from './scale';

/**
 * Largest frame drawn in the host (rows × columns): 4096 × 4096. Decoding and windowing
 * are one pass each (~20 ns a pixel), so a frame this size holds the host's event loop
 * ~0.3 s at most, once, for a hover; larger ones (whole-slide tiles, long scans) say "no
 * thumbnail" instead. The grid decodes in its webview, never here.
 */
export const MAX_HOST_DECODE_PIXELS = 4096 * 4096;

/** The decoders without WebAssembly: a codec asked for fails as "unsupported here". */
export const HOST_DECODERS: DecoderDeps = {
  codecs: {
    get(name: CodecName) {
      return Promise.reject(
        new DecodeError(
          `${CODEC_FILES[name].label} (WebAssembly) is not loaded in the extension host`,
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

/** Decodes frame bytes and returns a PNG of at most `size` × `size` pixels. */
export async function thumbnailPng(
  bytes: Uint8Array,
  info: ImageInfo,
  encoding: FrameEncoding,
  size: number,
): Promise<Uint8Array> {
  if (info.rows * info.columns > MAX_HOST_DECODE_PIXELS)
    throw new DecodeError(
      `the frame is ${info.columns}×${info.rows}, more than the ${MAX_HOST_DECODE_PIXELS.toLocaleString('en-US')} pixels drawn in the extension host`,
      false,
    );
  const frame = await decodeFrame(bytes, info, encoding, HOST_DECODERS);
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
